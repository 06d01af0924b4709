"""Reproducible QA sampling: about 5% of each agent's tickets, the small ones pooled."""

import datetime
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.common.bulk import copy_insert
from performance.common.money import round_half_up
from performance.common.numbers import frac
from performance.common.windows import window_bounds
from performance.org.models import Staff
from performance.records.keys import QaHash, key_seed, qa_hash
from performance.records.models import Ticket

from .models import Inspection, InspectionStatus, Scorecard


def sample_size(n: int, rate: Fraction) -> int:
    """n × rate rounded half-up to a whole number of tickets (exact: ``rate`` is a Fraction)."""
    return int(round_half_up(n * rate, 0))


def qa_sample(*, start: datetime.date, end: datetime.date, rate=None, seed=None, stored_keys: bool = True) -> dict:
    """Draw the sample of tickets created in [start, end). Running it again adds nothing.

    Each agent gets round(n × rate) of their tickets, at least one; agents whose share
    rounds to zero are pooled and sampled together at the same rate (at least one ticket),
    taking one ticket per pooled agent in hash order so the pool's picks spread over agents.
    Which tickets: the lowest md5(seed, external_id), so a draw is reproducible. For the
    configured seed every ticket stores that number (``Ticket.qa_key``) and the draw reads it
    with the window's index entries instead of hashing each ticket; the same tickets either way
    (``stored_keys=False`` hashes regardless: the benchmark and the tests compare the two).
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
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The window's entries of the member index hold the keys in member order: each
            # member's tickets are sorted on their own (an incremental sort in memory), where
            # a scan of the table would sort the whole window on disk (docs/performance.md).
            with connection.cursor() as cur:
                cur.execute("SET LOCAL enable_seqscan = off")
        per_agent = tickets.values("staff_id").annotate(
            n=Count("id"), unkeyed=Count("id", filter=Q(qa_key__isnull=True))
        )
        counts, unkeyed = {}, 0
        for sid, n, missing in per_agent.order_by().values_list("staff_id", "n", "unkeyed"):
            counts[sid] = n
            unkeyed += missing
        key = F("qa_key") if stored_keys and not unkeyed and _stored_keys_fit(tickets, seed) else QaHash(seed)
        pooled = {sid for sid, n in counts.items() if sample_size(n, rate) == 0}
        own = {sid: max(1, sample_size(n, rate)) for sid, n in counts.items() if sid not in pooled}
        ranked = tickets.annotate(
            h=key, rn=Window(RowNumber(), partition_by=[F("staff_id")], order_by=[key.asc(), F("id").asc()])
        )
        # one pass: per agent the first max(1, round(n × rate)) tickets in hash order, and each
        # pooled agent's first ticket (the pool then takes the lowest keys among those)
        chosen, firsts = [], []
        if counts:
            for tid, sid, rn, h in ranked.filter(rn__lte=max(own.values(), default=1)).values_list(
                "id", "staff_id", "rn", "h"
            ):
                if sid in pooled:
                    if rn == 1:
                        firsts.append((tid, sid, h))
                elif rn <= own[sid]:
                    chosen.append((tid, sid))
        pool_picks = []
        if pooled:
            k = max(1, sample_size(sum(counts[sid] for sid in pooled), rate))
            pool_picks = [(tid, sid) for tid, sid, _h in sorted(firsts, key=lambda r: (r[2], r[0]))[:k]]
        extra = Q()
        if conf.get("ALWAYS_INCLUDE_LOW_RATING"):
            extra |= Q(rating__lte=conf["ALWAYS_INCLUDE_LOW_RATING"])
        if conf.get("ALWAYS_INCLUDE_REOPENED"):
            extra |= Q(reopened=True)
        always = list(tickets.filter(extra).values_list("id", "staff_id")) if extra else []
        return _create_inspections(chosen, pool_picks, always, start, end, seed, tickets)


def _stored_keys_fit(tickets, seed: str) -> bool:
    """Whether the window's stored keys are this seed's: the configured seed, and a ticket's key
    still agrees with it (QA_SEED changed since they were written: hash on the fly instead)."""
    if seed != key_seed():
        return False
    probe = tickets.values_list("external_id", "qa_key").first()
    return probe is None or probe[1] == qa_hash(f"{seed}:", probe[0])


def _qa_inspectors() -> list[int]:
    return list(
        Staff.objects.filter(user__groups__name="QA", active=True).order_by("employee_no").values_list("id", flat=True)
    )


@transaction.atomic
def _create_inspections(chosen, pool_picks, always, window_start, window_end, seed, tickets) -> dict:
    picks = {tid: (sid, False) for tid, sid in chosen}
    picks.update({tid: (sid, True) for tid, sid in pool_picks})
    for tid, sid in always:
        picks.setdefault(tid, (sid, False))
    # the window's inspected tickets (a join), not an IN list of every pick
    existing = set(Inspection.objects.filter(ticket__in=tickets).values_list("ticket_id", flat=True))
    new_ids = sorted(t for t in picks if t not in existing)
    scorecard = Scorecard.objects.filter(active=True).order_by("code", "-version").first()
    if scorecard is None:
        raise ValidationError(_("No active QA scorecard."))
    inspectors = _qa_inspectors()
    now = timezone.now()
    rows = [
        (
            tid,
            scorecard.pk,
            _assign(inspectors, i, picks[tid][0]),
            now,
            window_start,
            window_end,
            picks[tid][1],
            InspectionStatus.PENDING.value,
            "",
            "",
            "",
            seed,
        )
        for i, tid in enumerate(new_ids)
    ]
    copy_insert(
        Inspection,
        [
            "ticket_id",
            "scorecard_id",
            "inspector_id",
            "sampled_at",
            "window_start",
            "window_end",
            "pooled",
            "status",
            "root_cause",
            "dispute_reason",
            "replaced_reason",
            "draw_seed",
        ],
        rows,
    )
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


def next_in_hash_order(*, inspection, seed: str):
    """The agent's next ticket in the same window and hash order that has no inspection yet."""
    ticket = inspection.ticket
    s, e = window_bounds(inspection.window_start, inspection.window_end)
    return (
        Ticket.objects.filter(staff_id=ticket.staff_id, created_at__gte=s, created_at__lt=e, inspection__isnull=True)
        .annotate(h=QaHash(seed))
        .order_by("h", "id")
        .first()
    )
