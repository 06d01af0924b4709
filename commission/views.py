from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.common.authority import door
from performance.common.exporting import table_response
from performance.models import AppraisalCycle

from . import statements
from .compute import period_window
from .models import Payout
from .selectors import visible_payouts


@door("commission.view_own_statements")
def my_statements(request):
    me = getattr(request.user, "staff", None)
    if me is None:
        raise Http404
    payouts = list(Payout.objects.filter(staff=me).select_related("cycle", "plan").order_by("-cycle__start"))
    why = None
    if not payouts:
        why = statements.why_no_statements(staff=me)
    return render(request, "commission/my_statements.html", {"payouts": payouts, "why": why, "me": me})


@door("commission.view_payout", obj=("pk", Payout))
def statement(request, pk):
    payout = get_object_or_404(visible_payouts(viewer=request.user), pk=pk)
    lines = list(payout.lines.select_related("order", "source_cycle").order_by("position", "id"))
    mine = getattr(request.user, "staff", None) == payout.staff
    if request.method == "POST" and mine:
        line = next((x for x in lines if str(x.pk) == request.POST.get("line")), None)
        try:
            statements.statement_query_ask(
                payout=payout, line=line, question=request.POST.get("question", ""), actor=request.user
            )
            messages.success(request, _("Your question was sent to finance."))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("statement", pk=pk)
    template = "commission/statement_print.html" if request.GET.get("print") else "commission/statement.html"
    start, end = period_window(payout.plan_version, payout.cycle) or (payout.cycle.start, payout.cycle.end)
    return render(
        request,
        template,
        {
            "payout": payout,
            "lines": lines,
            "mine": mine,
            "queries": payout.queries.select_related("line"),
            "company_name": settings.COMPANY_NAME or _("Service staff appraisal"),
            "period_start": start,
            "period_end": end,
            "issued": timezone.localdate(),
        },
    )


@door("commission.view_budget")
def budget(request, cycle_id):
    """Before approval: the cycle's total against the previous cycle and the budget."""
    cycle = get_object_or_404(AppraisalCycle, pk=cycle_id)
    return render(request, "commission/budget.html", {"cycle": cycle, **statements.budget_check(cycle=cycle)})


@door("commission.view_payout", obj=("pk", Payout))
def statement_csv(request, pk):
    payout = get_object_or_404(visible_payouts(viewer=request.user), pk=pk)
    header = ["kind", "description", "order", "paid_in_cycle", "base", "rate", "amount"]
    rows = [
        [
            line.kind,
            line.label,
            line.order.external_id if line.order else "",
            line.source_cycle.name if line.source_cycle else "",
            line.base,
            line.rate,
            line.amount,
        ]
        for line in payout.lines.select_related("order", "source_cycle").order_by("position", "id")
    ]
    for label, value in (
        ("gross", payout.gross),
        ("multiplier", payout.multiplier),
        ("commission", payout.commission),
        ("clawback", payout.clawback),
        ("carried_balance", payout.carried_balance),
        ("total", payout.total),
    ):
        rows.append(["summary", label, "", "", None, None, value])
    return table_response(
        f"statement-{payout.cycle.name}-{payout.staff.employee_no}", header, rows, "csv", sheet=_("Statement")
    )
