"""Reads, built once and reused by views, admin, exports and tasks."""

from django.db.models import BigIntegerField, Exists, OuterRef, Prefetch, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce, NullIf

from performance.common.formatting import normalized
from performance.common.money import round_half_up
from performance.common.windows import window_bounds
from performance.org.models import Staff
from performance.org.selectors import visible_staff
from performance.records.models import Order, Ticket
from performance.sla.models import Complaint

from . import hooks, rules
from .models import Appraisal, AppraisalCycle, CycleState, Indicator, IndicatorResult, KciRating, MetricValue

# A member's effective result: what HR calibrated where it did, else what the close computed.
# Every page, dashboard, export of people-facing figures and the commission grade modifier
# read these three expressions (through ``with_effective``), never the raw columns.
EFFECTIVE_SCORE = Coalesce("override_score", "final_score")
EFFECTIVE_GRADE = Coalesce(NullIf("override_grade", Value("")), "grade")
EFFECTIVE_RANK = Coalesce("calibrated_rank", "rank")


def with_effective(qs):
    """``qs`` (appraisals) with ``effective_score``, ``effective_grade`` and ``effective_rank``."""
    return qs.annotate(effective_score=EFFECTIVE_SCORE, effective_grade=EFFECTIVE_GRADE, effective_rank=EFFECTIVE_RANK)


def effective_grades(*, cycle) -> dict[int, str]:
    """staff id → effective grade of every appraisal of the cycle (the commission grade modifier reads it)."""
    return dict(Appraisal.objects.filter(cycle=cycle).values_list("staff_id").annotate(g=EFFECTIVE_GRADE))


def template_grades(template) -> list[str]:
    """The grade codes a template gives, in its order, and "not_rated": the choices of a calibrated grade."""
    out = [grade for _bound, grade in template.grades if grade]
    return [*dict.fromkeys(out), "not_rated"]


def appraisal_list(*, cycle=None, viewer=None):
    """Appraisals with their member, team, template, cycle and effective result; of one cycle, or those
    ``viewer`` may see."""
    qs = with_effective(Appraisal.objects.select_related("staff__team", "template", "cycle"))
    if cycle is not None:
        qs = qs.filter(cycle=cycle)
    if viewer is not None:
        qs = qs.filter(staff__in=visible_staff(viewer=viewer))
    return qs


def appraisal_with_breakdown(qs):
    """``qs`` with each appraisal's section and indicator results, in order."""
    return qs.prefetch_related(
        "sections",
        Prefetch("indicators", queryset=IndicatorResult.objects.order_by("position")),
    )


def metric_count_sum(code: str, part: int):
    """Sum over members, in SQL, of a counted metric's numerator (part 0) or denominator (part 1).

    Reads ``MemberMetrics.values[code][part]``; only for metrics whose parts are counts.
    """
    return Sum(Cast(KeyTextTransform(str(part), KeyTransform(code, "values")), BigIntegerField()))


def cycle_members(*, cycle: AppraisalCycle, roles) -> list[tuple[int, str, str]]:
    """(id, employee_no, role) of the staff in these roles appraised and paid in the cycle.

    Contract, "Edge rules": staff who leave or join during a cycle are appraised and paid on
    their data in the window like everyone else; ``active = false`` takes the login away, not
    the pay. So: the active staff hired before the window ends, and anyone, active or not,
    with data in the window (tickets created, orders paid or refunded, complaints received,
    or the cycle's imported metrics and KCI ratings).
    """
    start, end = window_bounds(cycle.start, cycle.end)
    mine = OuterRef("pk")
    worked = (
        Exists(Ticket.objects.filter(staff_id=mine, created_at__gte=start, created_at__lt=end))
        | Exists(Order.objects.filter(staff_id=mine, paid_at__gte=start, paid_at__lt=end))
        | Exists(Order.objects.filter(staff_id=mine, refunded_at__gte=start, refunded_at__lt=end))
        | Exists(Complaint.objects.filter(staff_id=mine, received_at__gte=start, received_at__lt=end))
        | Exists(Complaint.objects.filter(handler_id=mine, received_at__gte=start, received_at__lt=end))
        | Exists(MetricValue.objects.filter(staff_id=mine, cycle=cycle))
        | Exists(KciRating.objects.filter(staff_id=mine, cycle=cycle))
    )
    employed = Q(active=True) & (Q(hired_on__isnull=True) | Q(hired_on__lt=cycle.end))
    return list(
        Staff.objects.filter(role__in=list(roles))
        .filter(employed | worked)
        .order_by("employee_no")
        .values_list("id", "employee_no", "role")
    )


def cycle_roles(*, cycle: AppraisalCycle) -> set[str]:
    """The roles closed in the cycle: its templates' and any another app pays (commission plans)."""
    roles = set(cycle.templates.values_list("role", flat=True))
    for hook in hooks.member_roles:
        roles |= set(hook(cycle=cycle))
    return roles


def kci_items(*, cycle: AppraisalCycle) -> dict[str, list[Indicator]]:
    """Per role, the manager-rated (KCI) items of the template its members are appraised on in the cycle."""
    out: dict[str, list[Indicator]] = {}
    for template in cycle.templates.prefetch_related("sections__indicators").order_by("code", "-version"):
        if template.role not in out:
            out[template.role] = [
                ind
                for section in template.sections.all()
                for ind in section.indicators.all()
                if rules.get(ind.rule).source == "rating"
            ]
    return out


def kci_missing(*, cycle: AppraisalCycle, staff=None) -> list[tuple[Staff, Indicator]]:
    """(member, item) pairs still without a manager rating (among ``staff`` if given)."""
    return kci_missing_page(cycle=cycle, staff=staff, limit=None)[0]


def kci_missing_page(*, cycle: AppraisalCycle, staff=None, limit: int | None = 100) -> tuple[list, int]:
    """The first ``limit`` (member, item) pairs without a rating, and how many there are.

    Nothing is missing in a finalized cycle (nothing can be rated any more); once a cycle is
    closed, only the members it appraised can miss a rating (not those who joined later).
    Pairs are worked out from ids; member instances (with team and manager) are made only for
    the pairs shown, not for the thousands of members a company-wide page counts.
    """
    if cycle.state == CycleState.FINALIZED:
        return [], 0
    items = kci_items(cycle=cycle)
    if not items:
        return [], 0
    members = Staff.objects.filter(role__in=items.keys(), active=True)
    if cycle.state in (CycleState.REVIEW, CycleState.CLOSING, CycleState.FAILED) and cycle.closed_at is not None:
        members = members.filter(appraisals__cycle=cycle)
    ratings = KciRating.objects.filter(cycle=cycle)
    if staff is not None:
        members = members.filter(pk__in=staff.values("pk"))
        ratings = ratings.filter(staff__in=staff.values("pk"))
    rated = set(ratings.values_list("staff_id", "indicator"))
    pairs = [
        (pk, item)
        for pk, role in members.values_list("pk", "role")
        for item in items[role]
        if (pk, item.code) not in rated
    ]
    shown = pairs if limit is None else pairs[:limit]
    if not shown:
        return [], len(pairs)
    by_pk = Staff.objects.select_related("team", "manager").in_bulk({pk for pk, _item in shown})
    return [(by_pk[pk], item) for pk, item in shown], len(pairs)


def results_table(*, cycle: AppraisalCycle):
    """(header, rows) for the results export: contract columns, then per indicator value and score."""
    indicator_cols = []
    for template in cycle.templates.prefetch_related("sections__indicators").order_by("code"):
        for section in template.sections.all():
            for ind in section.indicators.all():
                key = f"{section.code}.{ind.code}"
                if key not in indicator_cols:
                    indicator_cols.append(key)
    header = [
        "employee_no",
        "name",
        "template",
        "final_score",
        "grade",
        "rank",
        "eligible",
        "calibrated_score",
        "calibrated_grade",
        "team",
        "tickets_handled",
        "effective_score",
        "effective_grade",
        "effective_rank",
    ]
    for key in indicator_cols:
        header += [f"{key}.value", f"{key}.score"]
    qs = appraisal_with_breakdown(
        with_effective(Appraisal.objects.filter(cycle=cycle))
        .select_related("staff__team", "template")
        .order_by("staff__employee_no")
    )

    def rows():
        for a in qs.iterator(chunk_size=1000):
            by_key = {f"{i.section}.{i.indicator}": i for i in a.indicators.all()}
            row = [
                a.staff.employee_no,
                a.staff.name,
                a.template.code,
                a.final_score,
                a.grade,
                a.rank,
                a.eligible,
                a.override_score,
                a.override_grade,
                a.staff.team.name,
                a.tickets_handled,
                None if a.effective_score is None else round_half_up(a.effective_score, 2),  # SQLite drops places
                a.effective_grade,
                a.effective_rank,
            ]
            for key in indicator_cols:
                i = by_key.get(key)
                row += [
                    normalized(i.raw_value) if i else None,
                    None if i is None else i.score,  # stored as shown: rounded once from the exact score
                ]
            yield row

    return header, rows()
