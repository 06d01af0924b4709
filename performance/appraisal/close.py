"""The close's pipeline: metrics per chunk of members, then scores, ranks, grades and the hooks.

Each step takes the cycle id and its close run; a step of a superseded run does nothing, and
every step replaces what an earlier attempt wrote, so Celery may run a chunk twice.
"""

import logging
from fractions import Fraction

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from performance.common.bulk import copy_insert, gc_paused, history_insert_from
from performance.common.money import round_half_up

from . import hooks, rules, scoring
from .metrics import COMPUTED_METRICS, StoredMetrics, compute_metrics
from .models import (
    Appraisal,
    AppraisalCycle,
    CycleState,
    IndicatorResult,
    KciRating,
    MemberMetrics,
    MetricValue,
    SectionResult,
)
from .reviews import calibrated_ranks_refresh
from .selectors import EFFECTIVE_GRADE, cycle_members, cycle_roles

log = logging.getLogger(__name__)
NOT_RATED = "not_rated"


def cycle_chunks(cycle: AppraisalCycle) -> list[list[int]]:
    """The members to close, in chunks of CLOSE_CHUNK_SIZE: one Celery task each."""
    size = settings.APPRAISAL["CLOSE_CHUNK_SIZE"]
    ids = [m[0] for m in cycle_members(cycle=cycle, roles=cycle_roles(cycle=cycle))]
    return [ids[i : i + size] for i in range(0, len(ids), size)] or [[]]


def current_run(cycle_id: int, run: int) -> AppraisalCycle | None:
    """The cycle, if ``run`` is still its running close; None when superseded or done."""
    cycle = AppraisalCycle.objects.get(pk=cycle_id)
    if cycle.close_run != run or cycle.state != CycleState.CLOSING:
        log.info("cycle %s: close run %s superseded or done, skipping", cycle_id, run)
        return None
    return cycle


@gc_paused()
def cycle_compute_metrics(*, cycle_id: int, run: int, staff_ids: list[int]) -> None:
    """One chunk's metrics: replace the computed metrics of these members (one row each). Safe to run twice.

    Runs inside the caller's transaction (``runs.run_chunk``), which marks the chunk done with it.
    """
    cycle = current_run(cycle_id, run)
    if cycle is None or not staff_ids:
        return
    values = compute_metrics(staff_ids, cycle.start, cycle.end, now=cycle.closing_started_at)
    if MemberMetrics.objects.filter(cycle=cycle).exists():  # nothing to replace on a cycle's first close
        MemberMetrics.objects.filter(cycle=cycle, staff_id__in=staff_ids).delete()
    copy_insert(
        MemberMetrics,
        ["cycle_id", "staff_id", "values"],
        (
            (cycle.pk, sid, {code: result.to_json() for code, result in metrics.items()})
            for sid, metrics in values.items()
        ),
    )


def cycle_metric_map(*, cycle: AppraisalCycle, staff_ids=None) -> dict[int, StoredMetrics]:
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
        cycle = current_run(cycle_id, run)
        if cycle is None:
            return
        cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle_id)
        metrics = _score_appraisals(cycle)
        calibrated_ranks_refresh(cycle=cycle)
        for hook in hooks.after_close:
            hook(cycle=cycle, metrics=metrics)
        cycle.state = CycleState.REVIEW
        cycle.closed_at = timezone.now()
        cycle.progress_done = cycle.progress_total
        cycle.save()


def _score_appraisals(cycle: AppraisalCycle) -> dict[int, StoredMetrics]:
    """Score every member; returns the metrics read, which the after-close hooks reuse."""
    templates = list(cycle.templates.prefetch_related("sections__indicators").order_by("code"))
    by_role = {}
    for template in templates:
        by_role.setdefault(template.role, template)
    members = cycle_members(cycle=cycle, roles=by_role.keys())
    metrics = cycle_metric_map(cycle=cycle)
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
        values = (
            row["template"].pk,
            row["aggregate"].rounded,
            grade,
            row["rank"],
            row["eligible"],
            row["tickets"],
            _needs_plan(grade, previous.get(sid, [])),
        )
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
    return metrics


def _score_template(template, team, metrics, ratings) -> list[dict]:
    """Score one template's members: raw values, rule scores, rank scores, aggregate, rank, grade."""
    sections = list(template.sections.all())
    # Everything that does not depend on the member, worked out once per indicator.
    plan = []
    for section in sections:
        indicators = []
        for ind in section.indicators.all():
            rule = rules.get(ind.rule)
            indicators.append(
                (
                    ind,
                    (section.code, ind.code),
                    scoring.exact_weight(ind.weight),
                    rule,
                    None if rule.needs_peers else rule.scorer(ind.params),
                )
            )
        plan.append((section, scoring.exact_weight(section.weight), indicators))
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
        for ind, key, _w, rule, _score_of in indicators:
            source, name = (ratings, ind.code) if rule.source == "rating" else (metrics, ind.metric)
            values = raw[key] = {sid: (source.get(sid) or no_values).get(name) for sid, _eno in team}
            if rule.needs_peers:
                peers = {sid: values[sid] for sid, _eno in team if eligible[sid]}
                rank_by_indicator[key] = rule.peer_scores(peers, ind.params)
    rows = []
    for sid, eno in team:
        section_scores = []
        for section, section_weight, indicators in plan:
            scores = []
            for ind, key, weight, _rule, score_of in indicators:
                if score_of is None:
                    score = rank_by_indicator[key].get(sid) if eligible[sid] else None
                else:
                    score = score_of(raw[key][sid])
                scores.append(scoring.IndicatorScore(ind.code, weight, score))
            section_scores.append(scoring.SectionScore(section.code, section_weight, scores))
        agg = scoring.aggregate(section_scores)
        rows.append(
            {
                "staff_id": sid,
                "employee_no": eno,
                "template": template,
                "aggregate": agg,
                "eligible": eligible[sid],
                "tickets": tickets[sid],
                "raw": raw,
                "sections": sections,
                "rank": None,
                "grade": NOT_RATED,
            }
        )
    ranked = [r for r in rows if r["eligible"] and r["aggregate"].rounded is not None]
    order = scoring.order_for_rank([(i, r["employee_no"], r["aggregate"].rounded) for i, r in enumerate(ranked)])
    grade_of = scoring.grader(template.grading_method, template.grades)
    for place, index in enumerate(order, start=1):
        row = ranked[index]
        row["rank"] = place
        row["grade"] = grade_of(score=row["aggregate"].rounded, place=place, ranked=len(ranked))
    return rows


SCORED_FIELDS = ["template_id", "final_score", "grade", "rank", "eligible", "tickets_handled", "improvement_plan"]
APPRAISAL_FIELDS = [
    "cycle_id",
    "staff_id",
    *SCORED_FIELDS,
    "override_score",
    "override_grade",
    "override_reason",
    "computed_at",
]  # a new appraisal: scored, not calibrated
SECTION_FIELDS = ["appraisal_id", "code", "kind", "weight", "position", "effective_weight", "score"]
INDICATOR_FIELDS = [
    "appraisal_id",
    "section",
    "indicator",
    "name",
    "metric",
    "raw_value",
    "rule",
    "params",
    "weight",
    "position",
    "score",
    "effective_weight",
    "contribution",
]


# The places each stored figure is shown at: it is rounded once, here, from its exact value
# (contract, "Edge rules"); pages and exports show the stored figure as it is.
RAW_PLACES, SCORE_PLACES, SHARE_PLACES, CONTRIBUTION_PLACES = 10, 2, 4, 4


def _maybe(value, places):
    return None if value is None else round_half_up(value, places)


def _section_rows(aid, row):
    agg = row["aggregate"]
    for i, (section, score) in enumerate(zip(row["sections"], agg.sections)):
        yield (
            aid,
            section.code,
            section.kind,
            section.weight,
            i,
            _maybe(score.share, SHARE_PLACES),
            _maybe(score.score, SCORE_PLACES),
        )


def _indicator_rows(aid, row):
    agg = row["aggregate"]
    position = 0
    for section, sscore in zip(row["sections"], agg.sections):
        for ind, iscore in zip(section.indicators.all(), sscore.indicators):
            value = row["raw"][(section.code, ind.code)][row["staff_id"]]
            yield (
                aid,
                section.code,
                ind.code,
                ind.name,
                ind.metric,
                _maybe(value, RAW_PLACES),
                ind.rule,
                ind.params,
                ind.weight,
                position,
                _maybe(iscore.score, SCORE_PLACES),
                _maybe(iscore.share, SHARE_PLACES),
                _maybe(iscore.contribution, CONTRIBUTION_PLACES),
            )
            position += 1


def _previous_grades(cycle) -> dict[int, list[str]]:
    """Grades of the few cycles before this one that the improvement-plan streak needs, newest first.

    Only the last ``IMPROVEMENT_PLAN_AFTER - 1`` cycles are read, so the close does not grow with
    the years of history behind it.
    """
    earlier = list(
        AppraisalCycle.objects.filter(end__lte=cycle.start)
        .order_by("-start")
        .values_list("pk", flat=True)[: max(0, settings.APPRAISAL["IMPROVEMENT_PLAN_AFTER"] - 1)]
    )
    out: dict[int, list[str]] = {}
    if not earlier:
        return out
    rows = (
        Appraisal.objects.filter(cycle_id__in=earlier)
        .order_by("-cycle__start")
        .annotate(effective=EFFECTIVE_GRADE)
        .values_list("staff_id", "effective")
    )
    for sid, grade in rows.iterator(chunk_size=5000):
        out.setdefault(sid, []).append(grade)
    return out


def _needs_plan(grade, previous) -> bool:
    """Flag consecutive 'needs improvement' grades for an improvement plan."""
    streak = settings.APPRAISAL["IMPROVEMENT_PLAN_AFTER"]
    history = [grade] + previous[: streak - 1]
    return len(history) >= streak and all(g == "needs_improvement" for g in history)


def mark_failed(*, cycle_id: int, run: int, error: str) -> None:
    """The close of ``run`` failed: say so on the cycle (a later run is left alone)."""
    AppraisalCycle.objects.filter(pk=cycle_id, close_run=run, state=CycleState.CLOSING).update(
        state=CycleState.FAILED, error=error[:5000]
    )
