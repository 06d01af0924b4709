"""Reads, built once and reused by views, admin, exports and tasks."""

from decimal import Decimal

from django.db.models import BigIntegerField, Prefetch, Q, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast

from .models import Appraisal, AppraisalCycle, Complaint, IndicatorResult, Inspection, Staff


def appraisal_list(*, cycle=None, filters=None, viewer=None):
    qs = Appraisal.objects.select_related("staff__team", "template", "cycle")
    if cycle is not None:
        qs = qs.filter(cycle=cycle)
    if viewer is not None:
        qs = qs.filter(staff__in=visible_staff(viewer))
    if filters:
        from .filters import AppraisalFilter

        qs = AppraisalFilter(filters, queryset=qs).qs
    return qs


def appraisal_with_breakdown(qs):
    return qs.prefetch_related(
        "sections",
        Prefetch("indicators", queryset=IndicatorResult.objects.order_by("position")),
    )


def metric_count_sum(code: str, part: int):
    """Sum over members, in SQL, of a counted metric's numerator (part 0) or denominator (part 1).

    Reads ``MemberMetrics.values[code][part]``; only for metrics whose parts are counts.
    """
    return Sum(Cast(KeyTextTransform(str(part), KeyTransform(code, "values")), BigIntegerField()))


def team_subtree_ids(team_id) -> list[int]:
    from .models import Team

    parents = dict(Team.objects.values_list("id", "parent_id"))
    out = []
    for tid in parents:
        cur = tid
        while cur is not None:
            if cur == team_id:
                out.append(tid)
                break
            cur = parents.get(cur)
    return out


def visible_staff(user):
    """Whom a user may see: HR/Finance/superusers everyone, managers their subtree, staff themselves."""
    if user.is_superuser or user.groups.filter(name__in=["HR", "Finance"]).exists():
        return Staff.objects.all()
    me = getattr(user, "staff", None)
    if me is None:
        return Staff.objects.none()
    if me.role == "manager" or user.groups.filter(name="Manager").exists():
        return Staff.objects.filter(Q(team_id__in=team_subtree_ids(me.team_id)) | Q(manager=me) | Q(pk=me.pk))
    return Staff.objects.filter(pk=me.pk)


def results_table(cycle: AppraisalCycle):
    """(header, rows) for the results export: contract columns, then per indicator value and score."""
    indicator_cols = []
    for template in cycle.templates.prefetch_related("sections__indicators").order_by("code"):
        for section in template.sections.all():
            for ind in section.indicators.all():
                key = f"{section.code}.{ind.code}"
                if key not in indicator_cols:
                    indicator_cols.append(key)
    header = ["employee_no", "name", "template", "final_score", "grade", "rank", "eligible",
              "calibrated_score", "calibrated_grade", "team", "tickets_handled"]
    for key in indicator_cols:
        header += [f"{key}.value", f"{key}.score"]
    qs = appraisal_with_breakdown(
        Appraisal.objects.filter(cycle=cycle).select_related("staff__team", "template").order_by("staff__employee_no")
    )

    def rows():
        for a in qs.iterator(chunk_size=1000):
            by_key = {f"{i.section}.{i.indicator}": i for i in a.indicators.all()}
            row = [a.staff.employee_no, a.staff.name, a.template.code, a.final_score, a.grade, a.rank, a.eligible,
                   a.override_score, a.override_grade, a.staff.team.name, a.tickets_handled]
            for key in indicator_cols:
                i = by_key.get(key)
                row += [_plain(i.raw_value) if i else None,
                        None if i is None or i.score is None else i.score.quantize(Decimal("0.01"))]
            yield row

    return header, rows()


def _plain(value: Decimal | None):
    if value is None:
        return None
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


def inspections_between(start, end):
    from .metrics import window_bounds

    s, e = window_bounds(start, end)
    return Inspection.objects.filter(ticket__created_at__gte=s, ticket__created_at__lt=e).select_related(
        "ticket__staff", "inspector"
    ).order_by("ticket__external_id")


def complaints_between(start, end):
    from .metrics import window_bounds

    s, e = window_bounds(start, end)
    return Complaint.objects.filter(received_at__gte=s, received_at__lt=e).order_by("received_at", "external_id")
