"""Quality inspection: reproducible sampling, scoring, disputes and reviews."""

import datetime
import hashlib
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Func, IntegerField, Q, Value, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from .bulk import copy_insert
from .metrics import window_bounds
from .models import Inspection, InspectionScore, InspectionStatus, Scorecard, Staff, Ticket
from .money import round_half_up
from .scoring import frac


def qa_hash_py(seed: str, external_id: str) -> int:
    """The same 60-bit number PostgreSQL computes from md5 (see ``QaHash``)."""
    return int(hashlib.md5(f"{seed}:{external_id}".encode()).hexdigest()[:15], 16)


class QaHash(Func):
    """A reproducible pseudo-random key per ticket: md5 of seed and external id, as an integer."""

    output_field = IntegerField()

    def __init__(self, seed: str):
        super().__init__(Value(f"{seed}:"), F("external_id"))

    def as_sql(self, compiler, conn, **extra):
        seed_sql, seed_params = compiler.compile(self.source_expressions[0])
        ext_sql, ext_params = compiler.compile(self.source_expressions[1])
        if conn.vendor == "postgresql":
            sql = f"('x' || substr(md5({seed_sql} || {ext_sql}), 1, 15))::bit(60)::bigint"
        else:
            _register_sqlite(conn)
            sql = f"qa_hash({seed_sql}, {ext_sql})"
        return sql, (*seed_params, *ext_params)


def _sqlite_qa_hash(prefix, external_id):
    return int(hashlib.md5(f"{prefix}{external_id}".encode()).hexdigest()[:15], 16)


def _register_sqlite(conn):
    """SQLite has no md5: register the same function (cheap, so on every compile)."""
    conn.ensure_connection()
    conn.connection.create_function("qa_hash", 2, _sqlite_qa_hash, deterministic=True)


def sample_size(n: int, rate: Fraction) -> int:
    """round half-up of n × rate, done in integers."""
    return int((2 * n * rate.numerator + rate.denominator) // (2 * rate.denominator))


def qa_sample(*, start: datetime.date, end: datetime.date, rate=None, seed=None, actor=None) -> dict:
    """Draw the sample of tickets created in [start, end). Running it again adds nothing.

    Each agent gets round(n × rate) of their tickets, at least one; agents whose share
    rounds to zero are pooled and sampled together at the same rate (at least one ticket),
    taking one ticket per pooled agent in hash order so the pool's picks spread over agents.
    Which tickets: the lowest md5(seed, external_id), so a draw is reproducible.
    """
    conf = settings.QA
    rate = frac(rate if rate is not None else conf["SAMPLE_RATE"])
    if not 0 < rate <= 1:
        raise ValidationError(_("The sampling rate must lie within 0–1."))
    seed = str(seed if seed is not None else conf["SEED"])
    s, e = window_bounds(start, end)
    tickets = Ticket.objects.filter(created_at__gte=s, created_at__lt=e)
    if conf.get("CHANNELS"):
        tickets = tickets.filter(channel__in=conf["CHANNELS"])
    if conf.get("KINDS"):
        tickets = tickets.filter(kind__in=conf["KINDS"])
    counts = dict(tickets.values("staff_id").annotate(n=Count("id")).order_by().values_list("staff_id", "n"))
    pooled = {sid for sid, n in counts.items() if sample_size(n, rate) == 0}
    own = {sid for sid in counts if sid not in pooled}

    ranked = tickets.annotate(
        h=QaHash(seed),
        rn=Window(RowNumber(), partition_by=[F("staff_id")], order_by=[QaHash(seed).asc(), F("id").asc()]),
    )
    chosen = []
    if own:
        # per agent: the first max(1, round(n × rate)) tickets in hash order
        max_k = max(sample_size(counts[sid], rate) for sid in own)
        rows = ranked.filter(staff_id__in=own, rn__lte=max_k).values_list("id", "staff_id", "rn")
        chosen += [(tid, sid) for tid, sid, rn in rows if rn <= max(1, sample_size(counts[sid], rate))]
    pool_picks = []
    if pooled:
        k = max(1, sample_size(sum(counts[sid] for sid in pooled), rate))
        firsts = ranked.filter(staff_id__in=pooled, rn=1).values_list("id", "staff_id", "h")
        pool_picks = [(tid, sid) for tid, sid, _h in sorted(firsts, key=lambda r: (r[2], r[0]))[:k]]
    extra = Q()
    if conf.get("ALWAYS_INCLUDE_LOW_RATING"):
        extra |= Q(rating__lte=conf["ALWAYS_INCLUDE_LOW_RATING"])
    if conf.get("ALWAYS_INCLUDE_REOPENED"):
        extra |= Q(reopened=True)
    always = list(tickets.filter(extra).values_list("id", "staff_id")) if extra else []
    return _create_inspections(chosen, pool_picks, always, start, end, seed)


def _qa_inspectors() -> list[int]:
    return list(Staff.objects.filter(user__groups__name="QA", active=True).order_by("employee_no").values_list("id", flat=True))


@transaction.atomic
def _create_inspections(chosen, pool_picks, always, window_start, window_end, seed) -> dict:
    picks = {tid: (sid, False) for tid, sid in chosen}
    picks.update({tid: (sid, True) for tid, sid in pool_picks})
    for tid, sid in always:
        picks.setdefault(tid, (sid, False))
    existing = set(Inspection.objects.filter(ticket_id__in=list(picks)).values_list("ticket_id", flat=True))
    new_ids = sorted(t for t in picks if t not in existing)
    scorecard = Scorecard.objects.filter(active=True).order_by("code", "-version").first()
    if scorecard is None:
        raise ValidationError(_("No active QA scorecard."))
    inspectors = _qa_inspectors()
    now = timezone.now()
    rows = [
        (tid, scorecard.pk, _assign(inspectors, i, picks[tid][0]), now, window_start, window_end, picks[tid][1],
         InspectionStatus.PENDING.value, "", "", "", seed)
        for i, tid in enumerate(new_ids)
    ]
    copy_insert(Inspection, ["ticket_id", "scorecard_id", "inspector_id", "sampled_at", "window_start", "window_end",
                             "pooled", "status", "root_cause", "dispute_reason", "replaced_reason", "draw_seed"], rows)
    return {"sampled": len(picks), "created": len(rows), "agents": len({s for s, _p in picks.values()})}


def _assign(inspectors, i, agent_id):
    """Round robin among QA staff, skipping the agent themself."""
    if not inspectors:
        return None
    for step in range(len(inspectors)):
        candidate = inspectors[(i + step) % len(inspectors)]
        if candidate != agent_id:
            return candidate
    return None


def _score(scorecard, scores: dict) -> tuple[Decimal, bool]:
    """Weighted mean of applicable items (N/A rescales the weights); a failed critical item fails all."""
    items = list(scorecard.items.all())
    applicable = [(it, frac(scores[it.pk])) for it in items if scores.get(it.pk) is not None]
    if not applicable:
        raise ValidationError(_("Score at least one item."))
    for it, s in applicable:
        if not 0 <= s <= 100:
            raise ValidationError(_("%(item)s: a score must lie within 0–100.") % {"item": it.name})
    total_w = sum(frac(it.weight) for it, _s in applicable)
    total = sum(frac(it.weight) * s for it, s in applicable) / total_w
    pass_mark = frac(scorecard.pass_mark)
    critical_failed = any(it.critical and s < pass_mark for it, s in applicable)
    return round_half_up(total, 2), (total >= pass_mark and not critical_failed)


@transaction.atomic
def inspection_submit(*, inspection, scores: dict, root_cause: str = "", actor) -> Inspection:
    inspection = Inspection.objects.select_for_update().select_related("scorecard", "ticket").get(pk=inspection.pk)
    reviewing = inspection.status == InspectionStatus.DISPUTED
    if inspection.status not in (InspectionStatus.PENDING, InspectionStatus.DISPUTED):
        raise ValidationError(_("This inspection is already done."))
    if inspection.ticket.staff_id == actor.pk:
        raise ValidationError(_("Nobody inspects their own tickets."))
    if reviewing and actor.pk == inspection.inspector_id:
        raise ValidationError(_("A dispute is reviewed by a second inspector."))
    total, passed = _score(inspection.scorecard, scores)
    if not passed and not root_cause.strip():
        raise ValidationError(_("A failed inspection needs a root-cause note."))
    InspectionScore.objects.filter(inspection=inspection, review=reviewing).delete()
    InspectionScore.objects.bulk_create(
        InspectionScore(inspection=inspection, item_id=item_id, score=score, review=reviewing)
        for item_id, score in scores.items()
    )
    if reviewing:
        inspection.first_score, inspection.first_passed = inspection.score, inspection.passed
        inspection.reviewer = actor
        inspection.status = InspectionStatus.REVIEWED
    else:
        inspection.inspector = actor
        inspection.status = InspectionStatus.DONE
    inspection.score, inspection.passed = total, passed
    inspection.root_cause = "" if passed else root_cause.strip()
    inspection.completed_at = timezone.now()
    inspection._history_user = actor.user
    inspection.save()
    return inspection


@transaction.atomic
def inspection_dispute(*, inspection, reason: str, actor) -> Inspection:
    if inspection.ticket.staff_id != actor.pk:
        raise ValidationError(_("Only the agent can dispute their inspection."))
    if inspection.status != InspectionStatus.DONE or inspection.passed:
        raise ValidationError(_("Only a failed, completed inspection can be disputed."))
    deadline = inspection.completed_at + datetime.timedelta(days=settings.QA["DISPUTE_DAYS"])
    if timezone.now() > deadline:
        raise ValidationError(_("The dispute window has closed."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for the dispute."))
    inspection.status, inspection.dispute_reason = InspectionStatus.DISPUTED, reason.strip()
    inspection._history_user = actor.user
    inspection.save()
    return inspection


@transaction.atomic
def inspection_replace(*, inspection, reason: str, actor, seed=None) -> Inspection | None:
    """Swap a ticket that cannot be judged for the agent's next ticket in hash order."""
    if inspection.status != InspectionStatus.PENDING:
        raise ValidationError(_("Only a pending inspection can be replaced."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for the replacement."))
    seed = str(seed if seed is not None else (inspection.draw_seed or settings.QA["SEED"]))
    ticket = inspection.ticket
    s, e = window_bounds(inspection.window_start, inspection.window_end)
    candidate = (
        Ticket.objects.filter(staff_id=ticket.staff_id, created_at__gte=s, created_at__lt=e, inspection__isnull=True)
        .annotate(h=QaHash(seed)).order_by("h", "id").first()
    )
    inspection.status, inspection.replaced_reason = InspectionStatus.REPLACED, reason.strip()
    inspection._history_user = getattr(actor, "user", None)
    inspection.save()
    if candidate is None:
        return None
    return Inspection.objects.create(
        ticket=candidate, scorecard=inspection.scorecard, inspector=inspection.inspector,
        sampled_at=timezone.now(), window_start=inspection.window_start, window_end=inspection.window_end,
        pooled=inspection.pooled, draw_seed=seed,
    )


# --- calibration and the QA dashboard -----------------------------------------------------


def calibration_pending(inspector):
    """(round, ticket) pairs this inspector has not scored yet, in open rounds."""
    from .models import CalibrationRound, CalibrationScore

    done = set(CalibrationScore.objects.filter(inspector=inspector).values_list("round_id", "ticket_id"))
    out = []
    for rnd in CalibrationRound.objects.filter(open=True).prefetch_related("tickets"):
        out.extend((rnd, t) for t in rnd.tickets.all() if (rnd.pk, t.pk) not in done and t.staff_id != inspector.pk)
    return out


@transaction.atomic
def calibration_score(*, round, ticket, inspector, scores: dict):
    from .models import CalibrationScore

    if not round.open:
        raise ValidationError(_("This calibration round is closed."))
    _score(round.scorecard, scores)  # the same checks as a real inspection
    CalibrationScore.objects.filter(round=round, ticket=ticket, inspector=inspector).delete()
    CalibrationScore.objects.bulk_create(
        CalibrationScore(round=round, ticket=ticket, inspector=inspector, item_id=item, score=s)
        for item, s in scores.items()
    )


def calibration_drift(round) -> list[dict]:
    """Per inspector and item: mean of (their score − the group's mean for that ticket and item).

    Negative = stricter than the group, positive = more lenient.
    """
    from collections import defaultdict

    from .models import CalibrationScore

    rows = list(CalibrationScore.objects.filter(round=round, score__isnull=False)
                .values_list("ticket_id", "item_id", "inspector_id", "score"))
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


def qa_dashboard(start, end) -> dict:
    """Pass rate by team and by inspector, and the mean score per rubric item, over [start, end)."""
    from django.db.models import Avg

    s, e = window_bounds(start, end)
    done = Inspection.objects.filter(ticket__created_at__gte=s, ticket__created_at__lt=e,
                                     status__in=[InspectionStatus.DONE, InspectionStatus.REVIEWED])

    def rate(group):
        rows = done.values(group).annotate(n=Count("id"), ok=Count("id", filter=Q(passed=True))).order_by(group)
        return [(r[group] or "—", r["n"], round_half_up(Fraction(r["ok"] * 100, r["n"]), 1)) for r in rows]

    items = (InspectionScore.objects.filter(inspection__in=done, review=False, score__isnull=False)
             .values("item__name").annotate(mean=Avg("score"), n=Count("id")).order_by("item__name"))
    return {"by_team": rate("ticket__staff__team__name"), "by_inspector": rate("inspector__name"),
            "by_item": [(r["item__name"], r["n"], round_half_up(Fraction(r["mean"]), 2)) for r in items]}
