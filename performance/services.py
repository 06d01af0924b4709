"""Every write of the appraisal side: cycles, the close, KCI ratings, calibration, appeals."""

import datetime
import logging
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from . import scoring
from .bulk import copy_insert, gc_paused, history_insert_from
from .metrics import COMPUTED_METRICS, StoredMetrics, compute_metrics, window_bounds
from .models import (
    Appeal,
    AppealStatus,
    Appraisal,
    AppraisalCycle,
    AppraisalTemplate,
    CycleState,
    IndicatorResult,
    KciRating,
    MemberMetrics,
    MetricValue,
    SectionResult,
    Staff,
    Ticket,
)
from .money import round_half_up

log = logging.getLogger(__name__)
NOT_RATED = "not_rated"


class CycleLocked(ValidationError):
    pass


def _audit_user(obj, actor):
    """simple-history reads the acting user from here outside a request."""
    obj._history_user = actor
    return obj


def cycle_assert_editable(cycle: AppraisalCycle) -> None:
    """Read the state from the database: the caller's copy may be stale."""
    from .importing import PAY_LOCKED

    state = AppraisalCycle.objects.filter(pk=cycle.pk).values_list("state", flat=True).first()
    if state == CycleState.FINALIZED:
        raise CycleLocked(_("Cycle %(name)s is finalized: its data, scores and ratings are locked.") % {"name": cycle.name})
    if AppraisalCycle.objects.filter(pk=cycle.pk, payouts__status__in=PAY_LOCKED).exists():
        raise CycleLocked(_("Cycle %(name)s has approved payouts: its data, scores and ratings are locked until "
                            "finance unlocks them.") % {"name": cycle.name})


@transaction.atomic
def cycle_create(*, name, start, end, templates=None, plans=None, actor=None, appeal_days=None) -> AppraisalCycle:
    if AppraisalCycle.objects.filter(name=name).exists():
        raise ValidationError(_("A cycle named %(name)s exists already.") % {"name": name})
    if templates:
        chosen = []
        for code in templates:
            template = AppraisalTemplate.objects.filter(code=code, active=True).order_by("-version").first()
            if template is None:
                raise ValidationError(_("No active template with code %(code)s.") % {"code": code})
            chosen.append(template)
    else:
        chosen = list(AppraisalTemplate.objects.filter(active=True))
    cycle = AppraisalCycle(
        name=name, start=start, end=end, state=CycleState.OPEN,
        appeal_days=settings.APPRAISAL["APPEAL_DAYS"] if appeal_days is None else appeal_days,
    )
    cycle.full_clean()
    _audit_user(cycle, actor).save()
    cycle.templates.set(chosen)
    for hook in settings.APPRAISAL.get("ON_CYCLE_CREATE", []):
        import_string(hook)(cycle=cycle, plans=plans)
    return cycle


def cycle_members(cycle: AppraisalCycle, roles) -> list[tuple[int, str, str]]:
    """(id, employee_no, role) of active staff in these roles, plus inactive ones with tickets in the window."""
    start, end = window_bounds(cycle.start, cycle.end)
    worked = Ticket.objects.filter(staff_id=OuterRef("pk"), created_at__gte=start, created_at__lt=end)
    return list(
        Staff.objects.filter(role__in=list(roles))
        .filter(Q(active=True) | Q(Exists(worked)))
        .order_by("employee_no")
        .values_list("id", "employee_no", "role")
    )


def cycle_roles(cycle: AppraisalCycle) -> set[str]:
    roles = set(cycle.templates.values_list("role", flat=True))
    for hook in settings.APPRAISAL.get("MEMBER_ROLES", []):
        roles |= set(import_string(hook)(cycle=cycle))
    return roles


@transaction.atomic
def cycle_close(*, cycle: AppraisalCycle, actor=None) -> AppraisalCycle:
    """Hand the close to Celery. One close at a time: the row lock serialises requests."""
    from .tasks import cycle_close_task

    cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
    cycle_assert_editable(cycle)
    if cycle.state == CycleState.CLOSING:
        raise ValidationError(_("Cycle %(name)s is already closing; wait for it to finish.") % {"name": cycle.name})
    for hook in settings.APPRAISAL.get("BEFORE_CLOSE", []):
        import_string(hook)(cycle=cycle)
    members = cycle_members(cycle, cycle_roles(cycle))
    cycle.state = CycleState.CLOSING
    cycle.close_run += 1
    cycle.progress_done = 0
    cycle.progress_total = len(members)
    cycle.error = ""
    cycle.closing_started_at = timezone.now()
    _audit_user(cycle, actor).save()
    run = cycle.close_run
    transaction.on_commit(lambda: cycle_close_task.delay(cycle.pk, run))
    return cycle


def cycle_chunks(cycle: AppraisalCycle) -> list[list[int]]:
    size = settings.APPRAISAL["CLOSE_CHUNK_SIZE"]
    ids = [m[0] for m in cycle_members(cycle, cycle_roles(cycle))]
    return [ids[i : i + size] for i in range(0, len(ids), size)] or [[]]


def _current_run(cycle_id: int, run: int) -> AppraisalCycle | None:
    cycle = AppraisalCycle.objects.get(pk=cycle_id)
    if cycle.close_run != run or cycle.state != CycleState.CLOSING:
        log.info("cycle %s: close run %s superseded or done, skipping", cycle_id, run)
        return None
    return cycle


@gc_paused()
@transaction.atomic
def cycle_compute_metrics(*, cycle_id: int, run: int, staff_ids: list[int]) -> None:
    """One chunk: replace the computed metrics of these members (one row each). Safe to run twice."""
    cycle = _current_run(cycle_id, run)
    if cycle is None or not staff_ids:
        return
    values = compute_metrics(staff_ids, cycle.start, cycle.end, now=cycle.closing_started_at)
    if MemberMetrics.objects.filter(cycle=cycle).exists():  # nothing to replace on a cycle's first close
        MemberMetrics.objects.filter(cycle=cycle, staff_id__in=staff_ids).delete()
    copy_insert(MemberMetrics, ["cycle_id", "staff_id", "values"], (
        (cycle.pk, sid, {code: result.to_json() for code, result in metrics.items()})
        for sid, metrics in values.items()
    ))
    done = MemberMetrics.objects.filter(cycle=cycle).count()
    AppraisalCycle.objects.filter(pk=cycle.pk, close_run=run).update(progress_done=done)


def cycle_metric_map(cycle: AppraisalCycle, staff_ids=None) -> dict[int, StoredMetrics]:
    """Every metric value of a cycle, exact: the computed ones, then imported ones for other codes."""
    computed = MemberMetrics.objects.filter(cycle=cycle)
    imported = MetricValue.objects.filter(cycle=cycle).exclude(metric__in=COMPUTED_METRICS)
    if staff_ids is not None:
        computed, imported = computed.filter(staff_id__in=staff_ids), imported.filter(staff_id__in=staff_ids)
    out: dict[int, StoredMetrics] = {}
    for sid, values in computed.values_list("staff_id", "values").iterator(chunk_size=5000):
        out[sid] = StoredMetrics(values)
    for sid, metric, value in imported.values_list("staff_id", "metric", "value").iterator(chunk_size=5000):
        if sid not in out:
            out[sid] = StoredMetrics({})
        out[sid].set(metric, None if value is None else Fraction(value))
    return out


@gc_paused()
def cycle_score(*, cycle_id: int, run: int) -> None:
    """The close's last step: scores, ranks, grades, then the after-close hooks (payouts)."""
    with transaction.atomic():
        cycle = _current_run(cycle_id, run)
        if cycle is None:
            return
        cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle_id)
        _score_appraisals(cycle)
        for hook in settings.APPRAISAL.get("AFTER_CLOSE", []):
            import_string(hook)(cycle=cycle)
        cycle.state = CycleState.REVIEW
        cycle.closed_at = timezone.now()
        cycle.progress_done = cycle.progress_total
        cycle.save()


def _score_appraisals(cycle: AppraisalCycle) -> None:
    templates = list(cycle.templates.prefetch_related("sections__indicators").order_by("code"))
    by_role = {}
    for template in templates:
        by_role.setdefault(template.role, template)
    members = cycle_members(cycle, by_role.keys())
    metrics = cycle_metric_map(cycle)
    cycle.metric_map = metrics  # read once per close: the after-close hooks (payouts) use it too
    ratings: dict[int, dict[str, Fraction]] = {}
    for sid, code, rating in KciRating.objects.filter(cycle=cycle).values_list("staff_id", "indicator", "rating"):
        ratings.setdefault(sid, {})[code] = Fraction(rating)

    computed = []  # (staff_id, employee_no, template, aggregate, values, eligible, tickets)
    for template in templates:
        if by_role[template.role] is not template:
            continue
        team = [(sid, eno) for sid, eno, role in members if role == template.role]
        computed.extend(_score_template(template, team, metrics, ratings))

    previous = _previous_grades(cycle)
    now = timezone.now()
    fields = SCORED_FIELDS
    # Compare plain values; model instances only for the rows that are new or changed.
    existing = {row[0]: row[1:] for row in Appraisal.objects.filter(cycle=cycle).values_list("staff_id", "pk", *fields)}
    to_create, kept, changed = [], [], {}
    for row in computed:
        sid, grade = row["staff_id"], row["grade"]
        values = (row["template"].pk, row["aggregate"].rounded, grade, row["rank"], row["eligible"], row["tickets"],
                  _needs_plan(grade, previous.get(sid, [])))
        before = existing.pop(sid, None)
        if before is None:
            to_create.append((cycle.pk, sid, *values, None, "", "", now))
        else:
            kept.append(before)
            if before[1:] != values:
                changed[before[0]] = values
    if existing:  # no longer members
        Appraisal.objects.filter(pk__in=[before[0] for before in existing.values()]).delete()
    if to_create:  # COPY, then their history records in one INSERT … SELECT
        copy_insert(Appraisal, APPRAISAL_FIELDS, to_create)
        history_insert_from(Appraisal.objects.filter(cycle=cycle).exclude(pk__in=[b[0] for b in kept]), when=now)
    if changed:
        to_update = list(Appraisal.objects.filter(pk__in=list(changed)))
        for appraisal in to_update:
            for name, value in zip(fields, changed[appraisal.pk]):
                setattr(appraisal, name, value)
            appraisal.computed_at = now
        bulk_update_with_history(to_update, Appraisal, [*fields, "computed_at"], batch_size=1000)
    Appraisal.objects.filter(cycle=cycle).exclude(computed_at=now).update(computed_at=now)  # the unchanged ones
    ids = dict(Appraisal.objects.filter(cycle=cycle).values_list("staff_id", "pk"))
    if kept:  # only appraisals from an earlier close have results to replace
        of_cycle = Appraisal.objects.filter(cycle=cycle).values("pk")  # a subquery, not a join: a direct DELETE
        IndicatorResult.objects.filter(appraisal_id__in=of_cycle).delete()
        SectionResult.objects.filter(appraisal_id__in=of_cycle).delete()
    section_rows, indicator_rows = [], []
    for row in computed:
        aid = ids[row["staff_id"]]
        section_rows.extend(_section_rows(aid, row))
        indicator_rows.extend(_indicator_rows(aid, row))
    copy_insert(SectionResult, SECTION_FIELDS, section_rows)
    copy_insert(IndicatorResult, INDICATOR_FIELDS, indicator_rows)


def _score_template(template, team, metrics, ratings) -> list[dict]:
    """Score one template's members: raw values, rule scores, rank scores, aggregate, rank, grade."""
    sections = list(template.sections.all())
    # Everything that does not depend on the member, worked out once per indicator.
    plan = [
        (section, scoring.exact_weight(section.weight), [
            (ind, (section.code, ind.code), scoring.exact_weight(ind.weight),
             None if ind.rule == "rank" else scoring.scorer(ind.rule, ind.params))
            for ind in section.indicators.all()
        ])
        for section in sections
    ]
    no_values = {}
    eligible, tickets = {}, {}
    for sid, _eno in team:
        handled = (metrics.get(sid) or no_values).get("tickets_handled") or 0
        tickets[sid] = int(handled)
        eligible[sid] = handled >= template.min_tickets
    # Raw values, then rank scores per rank indicator among eligible members.
    raw = {}
    rank_by_indicator = {}
    for _section, _weight, indicators in plan:
        for ind, key, _w, _scorer in indicators:
            source, name = (ratings, ind.code) if ind.rule == "rating" else (metrics, ind.metric)
            values = raw[key] = {sid: (source.get(sid) or no_values).get(name) for sid, _eno in team}
            if ind.rule == "rank":
                peers = {sid: values[sid] for sid, _eno in team if eligible[sid]}
                rank_by_indicator[key] = scoring.rank_scores(peers, ind.params.get("direction", "higher"))
    rows = []
    for sid, eno in team:
        section_scores = []
        for section, section_weight, indicators in plan:
            scores = []
            for ind, key, weight, score_of in indicators:
                if score_of is None:
                    score = rank_by_indicator[key].get(sid) if eligible[sid] else None
                else:
                    score = score_of(raw[key][sid])
                scores.append(scoring.IndicatorScore(ind.code, weight, score))
            section_scores.append(scoring.SectionScore(section.code, section_weight, scores))
        agg = scoring.aggregate(section_scores)
        rows.append({"staff_id": sid, "employee_no": eno, "template": template, "aggregate": agg,
                     "eligible": eligible[sid], "tickets": tickets[sid], "raw": raw, "sections": sections,
                     "rank": None, "grade": NOT_RATED})
    ranked = [r for r in rows if r["eligible"] and r["aggregate"].rounded is not None]
    order = scoring.order_for_rank([(i, r["employee_no"], r["aggregate"].rounded) for i, r in enumerate(ranked)])
    grade_of = scoring.grader(template.grading_method, template.grades)
    for place, index in enumerate(order, start=1):
        row = ranked[index]
        row["rank"] = place
        row["grade"] = grade_of(score=row["aggregate"].rounded, place=place, ranked=len(ranked))
    return rows


SCORED_FIELDS = ["template_id", "final_score", "grade", "rank", "eligible", "tickets_handled", "improvement_plan"]
APPRAISAL_FIELDS = ["cycle_id", "staff_id", *SCORED_FIELDS, "override_score", "override_grade", "override_reason",
                    "computed_at"]  # a new appraisal: scored, not calibrated
SECTION_FIELDS = ["appraisal_id", "code", "kind", "weight", "position", "effective_weight", "score"]
INDICATOR_FIELDS = ["appraisal_id", "section", "indicator", "name", "metric", "raw_value", "rule", "params", "weight",
                    "position", "score", "effective_weight", "contribution"]


def _maybe(value, places):
    return None if value is None else round_half_up(value, places)


def _section_rows(aid, row):
    agg = row["aggregate"]
    for i, (section, score) in enumerate(zip(row["sections"], agg.sections)):
        yield (aid, section.code, section.kind, section.weight, i, _maybe(score.share, 6), _maybe(score.score, 4))


def _indicator_rows(aid, row):
    agg = row["aggregate"]
    position = 0
    for section, sscore in zip(row["sections"], agg.sections):
        for ind, iscore in zip(section.indicators.all(), sscore.indicators):
            value = row["raw"][(section.code, ind.code)][row["staff_id"]]
            yield (aid, section.code, ind.code, ind.name, ind.metric, _maybe(value, 10), ind.rule, ind.params,
                   ind.weight, position, _maybe(iscore.score, 4), _maybe(iscore.share, 8),
                   _maybe(iscore.contribution, 6))
            position += 1


def _previous_grades(cycle) -> dict[int, list[str]]:
    """Grades of the few cycles before this one that the improvement-plan streak needs, newest first.

    Only the last ``IMPROVEMENT_PLAN_AFTER - 1`` cycles are read, so the close does not grow with
    the years of history behind it.
    """
    earlier = list(
        AppraisalCycle.objects.filter(end__lte=cycle.start).order_by("-start")
        .values_list("pk", flat=True)[: max(0, settings.APPRAISAL["IMPROVEMENT_PLAN_AFTER"] - 1)]
    )
    out: dict[int, list[str]] = {}
    if not earlier:
        return out
    rows = (
        Appraisal.objects.filter(cycle_id__in=earlier)
        .order_by("-cycle__start")
        .values_list("staff_id", "grade", "override_grade")
    )
    for sid, grade, override in rows.iterator(chunk_size=5000):
        out.setdefault(sid, []).append(override or grade)
    return out


def _needs_plan(grade, previous) -> bool:
    """Flag consecutive 'needs improvement' grades for an improvement plan."""
    streak = settings.APPRAISAL["IMPROVEMENT_PLAN_AFTER"]
    history = [grade] + previous[: streak - 1]
    return len(history) >= streak and all(g == "needs_improvement" for g in history)


def cycle_mark_failed(*, cycle_id: int, run: int, error: str) -> None:
    AppraisalCycle.objects.filter(pk=cycle_id, close_run=run, state=CycleState.CLOSING).update(
        state=CycleState.FAILED, error=error[:5000]
    )


# --- KCI, calibration, appeals, finalize -----------------------------------------


@transaction.atomic
def kci_rate(*, cycle, staff, indicator, rating, comment="", rated_by=None, actor=None) -> KciRating:
    cycle_assert_editable(cycle)
    obj = KciRating.objects.filter(cycle=cycle, staff=staff, indicator=indicator).first() or KciRating(
        cycle=cycle, staff=staff, indicator=indicator
    )
    obj.rating, obj.comment, obj.rated_by = rating, comment, rated_by
    obj.full_clean()
    _audit_user(obj, actor).save()
    return obj


def kci_missing(cycle, staff=None) -> list[tuple[Staff, str]]:
    """(member, indicator code) pairs still without a manager rating (of ``staff`` if given)."""
    wanted = []
    templates = cycle.templates.prefetch_related("sections__indicators")
    roles = {}
    for t in templates:
        codes = [i.code for s in t.sections.all() for i in s.indicators.all() if i.rule == "rating"]
        roles.setdefault(t.role, codes)
    if not roles:
        return []
    members = Staff.objects.filter(role__in=roles.keys(), active=True).select_related("team", "manager")
    ratings = KciRating.objects.filter(cycle=cycle)
    if staff is not None:
        members = members.filter(pk__in=staff.values("pk"))
        ratings = ratings.filter(staff__in=staff.values("pk"))
    rated = set(ratings.values_list("staff_id", "indicator"))
    for member in members:
        for code in roles[member.role]:
            if (member.pk, code) not in rated:
                wanted.append((member, code))
    return wanted


@transaction.atomic
def appraisal_override(*, appraisal, score=None, grade="", reason, actor) -> Appraisal:
    cycle_assert_editable(appraisal.cycle)
    if not reason:
        raise ValidationError(_("A calibration needs a reason."))
    appraisal.override_score, appraisal.override_grade, appraisal.override_reason = score, grade, reason
    _audit_user(appraisal, actor).save()
    return appraisal


def appeal_deadline(cycle) -> datetime.date | None:
    if cycle.closed_at is None:
        return None
    return timezone.localdate(cycle.closed_at) + datetime.timedelta(days=cycle.appeal_days)


@transaction.atomic
def appeal_file(*, appraisal, reason, actor) -> Appeal:
    cycle = appraisal.cycle
    deadline = appeal_deadline(cycle)
    if cycle.state != CycleState.REVIEW or deadline is None or timezone.localdate() > deadline:
        raise ValidationError(_("Appeals for this cycle are closed."))
    if appraisal.appeals.filter(status=AppealStatus.OPEN).exists():
        raise ValidationError(_("An appeal on this result is already open."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for the appeal."))
    appeal = Appeal(appraisal=appraisal, reason=reason.strip())
    _audit_user(appeal, actor).save()
    return appeal


@transaction.atomic
def appeal_decide(*, appeal, upheld: bool, decision: str, actor) -> Appeal:
    if appeal.status != AppealStatus.OPEN:
        return appeal
    cycle_assert_editable(appeal.appraisal.cycle)
    appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
    appeal.decision, appeal.decided_by, appeal.decided_at = decision, actor, timezone.now()
    _audit_user(appeal, actor).save()
    email = appeal.appraisal.staff.email
    if email:
        transaction.on_commit(lambda: send_mail(
            _("Your appeal was decided"),
            _("Your appeal on %(cycle)s was %(status)s: %(decision)s") % {
                "cycle": appeal.appraisal.cycle.name, "status": appeal.get_status_display(), "decision": decision},
            None, [email], fail_silently=True,
        ))
    return appeal


@transaction.atomic
def cycle_finalize(*, cycle, actor) -> AppraisalCycle:
    cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.state == CycleState.FINALIZED:
        return cycle
    if cycle.state != CycleState.REVIEW:
        raise ValidationError(_("Only a cycle in review can be finalized."))
    cycle.state, cycle.finalized_at = CycleState.FINALIZED, timezone.now()
    _audit_user(cycle, actor).save()
    return cycle


@transaction.atomic
def cycle_reopen(*, cycle, actor, reason: str) -> AppraisalCycle:
    if not getattr(actor, "is_superuser", False):
        raise ValidationError(_("Only a superuser can reopen a finalized cycle."))
    if not reason:
        raise ValidationError(_("Reopening needs a reason."))
    cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
    cycle.state = CycleState.REVIEW
    cycle._change_reason = reason
    _audit_user(cycle, actor).save()
    return cycle


def cycle_close_now(*, cycle: AppraisalCycle, actor=None) -> AppraisalCycle:
    """Close in this process, without Celery (demo seeding and the floor of the benchmark)."""
    with transaction.atomic():
        cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
        cycle_assert_editable(cycle)
        for hook in settings.APPRAISAL.get("BEFORE_CLOSE", []):
            import_string(hook)(cycle=cycle)
        cycle.state, cycle.close_run, cycle.error = CycleState.CLOSING, cycle.close_run + 1, ""
        cycle.closing_started_at = timezone.now()
        _audit_user(cycle, actor).save()
    for ids in cycle_chunks(cycle):
        cycle_compute_metrics(cycle_id=cycle.pk, run=cycle.close_run, staff_ids=ids)
    cycle_score(cycle_id=cycle.pk, run=cycle.close_run)
    cycle.refresh_from_db()
    return cycle
