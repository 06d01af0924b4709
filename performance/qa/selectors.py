"""Reads of quality inspection: queues, calibration drift, the dashboard, the export."""

from collections import defaultdict
from fractions import Fraction

from django.db.models import Count, Q, Sum

from performance.common.money import round_half_up
from performance.common.windows import window_bounds
from performance.org.models import Staff
from performance.records.models import Ticket

from .models import CalibrationRound, CalibrationScore, Inspection, InspectionScore, InspectionStatus

COMPLETED = [InspectionStatus.DONE, InspectionStatus.REVIEWED]


def inspection_queue(*, inspector):
    """An inspector's work, next first: their own and unassigned pending tickets, then others' disputes."""
    return (
        Inspection.objects.filter(
            Q(status=InspectionStatus.PENDING) & (Q(inspector=inspector) | Q(inspector__isnull=True))
            | Q(status=InspectionStatus.DISPUTED) & ~Q(inspector=inspector)
        )
        # never one's own ticket: asked of the inspector's tickets (an index probe), so the queue is
        # read in the order of its index and stops at the first ticket (a join would read every pending one)
        .exclude(ticket__in=Ticket.objects.filter(staff=inspector).values("pk"))
        .select_related("ticket__staff", "scorecard")
        .order_by("status", "sampled_at", "id")
    )


def calibration_pending(*, inspector) -> list[tuple]:
    """(round, ticket) pairs this inspector (a staff member) has not scored yet, in open rounds."""
    done = set(CalibrationScore.objects.filter(inspector=inspector).values_list("round_id", "ticket_id"))
    out = []
    for rnd in CalibrationRound.objects.filter(open=True).prefetch_related("tickets"):
        out.extend((rnd, t) for t in rnd.tickets.all() if (rnd.pk, t.pk) not in done and t.staff_id != inspector.pk)
    return out


def calibration_drift(*, round) -> list[dict]:
    """Per inspector and item: mean of (their score − the group's mean for that ticket and item).

    Negative = stricter than the group, positive = more lenient.
    """
    rows = list(
        CalibrationScore.objects.filter(round=round, score__isnull=False).values_list(
            "ticket_id", "item_id", "inspector_id", "score"
        )
    )
    by_cell = defaultdict(list)
    for ticket, item, inspector, score in rows:
        by_cell[(ticket, item)].append((inspector, Fraction(score)))
    deviations = defaultdict(list)
    for (_ticket, item), scored in by_cell.items():
        if len(scored) < 2:
            continue
        mean = sum(s for _i, s in scored) / len(scored)
        for inspector, s in scored:
            deviations[(inspector, item)].append(s - mean)
    names = dict(Staff.objects.filter(pk__in={k[0] for k in deviations}).values_list("pk", "name"))
    items = dict(round.scorecard.items.values_list("pk", "name"))
    return [
        {"inspector": names[i], "item": items[it], "drift": round_half_up(sum(d) / len(d), 2), "n": len(d)}
        for (i, it), d in sorted(deviations.items(), key=lambda kv: (names[kv[0][0]], kv[0][1]))
    ]


def qa_dashboard(*, start, end) -> dict:
    """Pass rate by team and by inspector, and the mean score per rubric item, over [start, end)."""
    s, e = window_bounds(start, end)
    done = Inspection.objects.filter(ticket__created_at__gte=s, ticket__created_at__lt=e, status__in=COMPLETED)

    def rate(group):
        rows = done.values(group).annotate(n=Count("id"), ok=Count("id", filter=Q(passed=True))).order_by(group)
        return [(r[group] or "—", r["n"], round_half_up(Fraction(r["ok"] * 100, r["n"]), 1)) for r in rows]

    items = (
        InspectionScore.objects.filter(inspection__in=done, review=False, score__isnull=False)
        .values("item__name")
        .annotate(total=Sum("score"), n=Count("id"))  # the mean exact, not the database's AVG
        .order_by("item__name")
    )
    return {
        "by_team": rate("ticket__staff__team__name"),
        "by_inspector": rate("inspector__name"),
        "by_item": [(r["item__name"], r["n"], round_half_up(Fraction(r["total"]) / r["n"], 2)) for r in items],
    }


def inspections_between(*, start, end):
    """Inspections of tickets created in [start, end), by ticket."""
    s, e = window_bounds(start, end)
    return (
        Inspection.objects.filter(ticket__created_at__gte=s, ticket__created_at__lt=e)
        .select_related("ticket__staff", "inspector")
        .order_by("ticket__external_id")
    )
