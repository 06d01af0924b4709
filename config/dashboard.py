"""The admin's index page: what HR and finance need to do today, above the list of models.

It lives in the project package because it reads both apps: HR's cycle overview (the same
selectors as ``/hr/``) and finance's payouts waiting for a decision.
"""

from django.db.models import Count, Q, Sum

from commission.models import Payout, PayoutStatus, QueryStatus, StatementQuery
from performance.appraisal.views import hr_context
from performance.common.money import round_money
from performance.org.selectors import in_groups


def dashboard_callback(request, context):
    """django-unfold's DASHBOARD_CALLBACK: adds the HR overview and finance's to-do list by role."""
    user = request.user
    if in_groups(user, "HR"):
        context.update(hr_context(request), show_hr=True)
    if in_groups(user, "Finance"):
        by_cycle = (
            Payout.objects.filter(status__in=[PayoutStatus.CALCULATED, PayoutStatus.ON_HOLD, PayoutStatus.APPROVED])
            .values("cycle_id", "cycle__name")
            .annotate(
                calculated=Count("id", filter=Q(status=PayoutStatus.CALCULATED)),
                on_hold=Count("id", filter=Q(status=PayoutStatus.ON_HOLD)),
                approved=Count("id", filter=Q(status=PayoutStatus.APPROVED)),
                stale=Count("id", filter=Q(recompute_needed=True)),
                total=Sum("total"),
            )
            .order_by("-cycle__start")
        )
        context.update(
            show_finance=True,
            payout_cycles=[{**row, "total": round_money(row["total"] or 0)} for row in by_cycle[:6]],
            open_questions=StatementQuery.objects.filter(status=QueryStatus.OPEN).count(),
        )
    return context
