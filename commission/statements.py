"""What finance checks before approving, and the questions staff ask about their statements."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.common.audit import audited
from performance.common.authority import require
from performance.common.money import round_money
from performance.models import AppraisalCycle, Staff

from .models import CycleBudget, Payout, PlanVersion, QueryStatus, StatementQuery
from .workflow import payout_adjust


def budget_check(*, cycle, top: int = 20) -> dict:
    """The cycle's total beside the previous cycle's and the budget, and the largest changes per person."""
    total = round_money(Payout.objects.filter(cycle=cycle).aggregate(s=Sum("total"))["s"] or 0)
    previous = AppraisalCycle.objects.filter(start__lt=cycle.start).order_by("-start").first()
    prev_total = None
    changes = []
    if previous is not None:
        prev_total = round_money(Payout.objects.filter(cycle=previous).aggregate(s=Sum("total"))["s"] or 0)
        now = {
            k: round_money(v)
            for k, v in Payout.objects.filter(cycle=cycle).values_list("staff_id").annotate(s=Sum("total"))
        }
        before = {
            k: round_money(v)
            for k, v in Payout.objects.filter(cycle=previous).values_list("staff_id").annotate(s=Sum("total"))
        }
        names = dict(Staff.objects.filter(pk__in=set(now) | set(before)).values_list("pk", "name"))
        for sid in set(now) | set(before):
            a, b = before.get(sid, Decimal("0.00")), now.get(sid, Decimal("0.00"))
            changes.append({"staff": names[sid], "before": a, "now": b, "change": b - a})
        changes.sort(key=lambda c: (-abs(c["change"]), c["staff"]))
    budget = CycleBudget.objects.filter(cycle=cycle).first()
    return {
        "total": total,
        "previous": previous,
        "previous_total": prev_total,
        "change": None if prev_total is None else total - prev_total,
        "budget": budget.amount if budget else None,
        "over_budget": bool(budget and total > budget.amount),
        "changes": changes[:top],
    }


@transaction.atomic
def statement_query_ask(*, payout, line, question: str, actor):
    """A member's question on a line of their statement, for finance to answer."""
    require(actor, "commission.add_statementquery", payout)
    if not question.strip():
        raise ValidationError(_("Write your question."))
    query = StatementQuery(payout=payout, line=line, question=question.strip())
    audited(query, actor).save()
    return query


@transaction.atomic
def statement_query_answer(*, query, answer: str, actor, adjustment: Decimal | None = None):
    """Finance answers, once; an adjustment (before approval) adds a line to the payout, audited.

    The question's row is locked and must still be open: the same answer posted twice (a
    double click, a resent form) answers once and adds its adjustment once.
    """
    require(actor, "commission.change_statementquery")
    if not answer.strip():
        raise ValidationError(_("Write an answer."))
    query = StatementQuery.objects.select_for_update().select_related("payout").get(pk=query.pk)
    if query.status != QueryStatus.OPEN:
        raise ValidationError(_("This question was answered already; nothing was changed."))
    require(actor, "commission.change_statementquery", query)
    if adjustment:
        payout_adjust(payout=query.payout, amount=adjustment, reason=answer.strip()[:200], actor=actor)
    query.answer, query.status = answer.strip(), QueryStatus.ANSWERED
    query.answered_by, query.answered_at = actor, timezone.now()
    audited(query, actor).save()
    return query


def why_no_statements(*, staff) -> str:
    """Why a member has no statement yet: no plan pays their role, or no cycle with a plan has closed."""
    versions = PlanVersion.objects.filter(plan__active=True).select_related("plan")
    paying = [v for v in versions if staff.role in (v.roles or [])]
    if not paying:
        return _("No commission plan pays your role (%(role)s), so there is no statement to show.") % {
            "role": staff.get_role_display()
        }
    return _("Your role is paid by %(plan)s: your first statement appears when HR closes a cycle that uses it.") % {
        "plan": paying[0].plan.name
    }
