"""A close run's chunks: which were sent, which reported, and the watchdog that sends them again.

A close splits its members into chunks (``CloseChunk`` rows, written with the run). Each chunk
is sent to a worker carrying an attempt number; the worker writes only if that number is still
the chunk's, then marks it done; the chunk that completes the set claims the scoring step. A
chunk that has not reported within its bound (from the chunk's size and the time the run's
other chunks took) is sent again with the next number, so a re-sent chunk and a late original
never both write; after ``CLOSE_MAX_RESENDS`` re-sends, or a chunk that killed its worker
``CLOSE_MAX_DELIVERIES`` times, the close fails with the reason. Nothing here talks to Celery:
``tasks`` sends what these functions decide.
"""

import datetime
import logging
import statistics
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import close
from .models import AppraisalCycle, ChunkState, CloseChunk, CycleState

log = logging.getLogger(__name__)


class Send(NamedTuple):
    """Something for ``tasks`` to send: a chunk (with its attempt) or a cycle's scoring step."""

    kind: str  # "chunk" or "score"
    id: int  # chunk id, or cycle id
    number: int  # attempt, or close run


def conf(name: str):
    return settings.APPRAISAL[name]


def plan(*, cycle: AppraisalCycle) -> int:
    """The chunks of the cycle's current run (earlier runs' chunks are dropped); returns how many."""
    CloseChunk.objects.filter(cycle=cycle).exclude(run=cycle.close_run).delete()
    chunks = close.cycle_chunks(cycle)
    CloseChunk.objects.bulk_create(
        CloseChunk(cycle=cycle, run=cycle.close_run, position=i, staff_ids=ids) for i, ids in enumerate(chunks)
    )
    return len(chunks)


@transaction.atomic
def claim_unsent(*, cycle_id: int, run: int) -> list[Send]:
    """Number the run's chunks that were never sent (a new run, or the broker was down) and hand them out."""
    now = timezone.now()
    chunks = list(
        CloseChunk.objects.select_for_update()
        .filter(cycle_id=cycle_id, run=run, state=ChunkState.QUEUED, sent_at__isnull=True)
        .order_by("position")
    )
    for chunk in chunks:
        chunk.attempt, chunk.sent_at = chunk.attempt + 1, now
    CloseChunk.objects.bulk_update(chunks, ["attempt", "sent_at"])
    return [Send("chunk", c.pk, c.attempt) for c in chunks]


def unsent(*, sends: list[Send], error: str) -> None:
    """The broker refused these: they count as not sent, and the watchdog sends them when it can."""
    chunk_ids = [s.id for s in sends if s.kind == "chunk"]
    CloseChunk.objects.filter(pk__in=chunk_ids).update(sent_at=None)
    cycles = [s.id for s in sends if s.kind == "score"]
    AppraisalCycle.objects.filter(pk__in=cycles).update(score_sent_at=None)
    log.warning("close steps not sent (%s); the watchdog will send them again", error)


def waiting(cycle: AppraisalCycle) -> int:
    """How many chunks of the cycle's running close wait to be sent."""
    return CloseChunk.objects.filter(
        cycle=cycle, run=cycle.close_run, state=ChunkState.QUEUED, sent_at__isnull=True
    ).count()


def run_chunk(*, chunk_id: int, attempt: int) -> Send | None:
    """A worker's part: one chunk's metrics, if ``attempt`` is still the chunk's; the scoring step to send, if any.

    The metrics and the chunk's "done" commit together. The chunk that completes the run's set
    claims the scoring step (the cycle row is locked while it counts, so two last chunks
    finishing at once cannot both miss it).
    """
    if not _delivered(chunk_id, attempt):
        return None
    with transaction.atomic():
        chunk = CloseChunk.objects.select_for_update().filter(pk=chunk_id).first()
        if chunk is None or chunk.state != ChunkState.QUEUED or chunk.attempt != attempt:
            log.info("chunk %s attempt %s superseded or done, skipping", chunk_id, attempt)
            return None
        if close.current_run(chunk.cycle_id, chunk.run) is None:
            return None
        close.cycle_compute_metrics(cycle_id=chunk.cycle_id, run=chunk.run, staff_ids=chunk.staff_ids)
        now = timezone.now()
        chunk.state, chunk.done_at = ChunkState.DONE, now
        chunk.save(update_fields=["state", "done_at"])
        cycle = AppraisalCycle.objects.select_for_update().get(pk=chunk.cycle_id)
        chunks = CloseChunk.objects.filter(cycle=cycle, run=chunk.run)
        done = sum(len(ids) for ids in chunks.filter(state=ChunkState.DONE).values_list("staff_ids", flat=True))
        AppraisalCycle.objects.filter(pk=cycle.pk, close_run=chunk.run).update(progress_done=done, progress_at=now)
        if chunks.filter(state=ChunkState.QUEUED).exists() or cycle.score_attempt:
            return None
        AppraisalCycle.objects.filter(pk=cycle.pk).update(score_attempt=1, score_sent_at=now)
        return Send("score", cycle.pk, chunk.run)


def _delivered(chunk_id: int, attempt: int) -> bool:
    """Count a delivery, in its own transaction; a chunk that keeps killing its worker fails the close."""
    with transaction.atomic():
        chunk = CloseChunk.objects.select_for_update().filter(pk=chunk_id, attempt=attempt).first()
        if chunk is None or chunk.state != ChunkState.QUEUED:
            return False
        chunk.deliveries += 1
        chunk.started_at = timezone.now()
        chunk.save(update_fields=["deliveries", "started_at"])
        limit = conf("CLOSE_MAX_DELIVERIES")
    if chunk.deliveries > limit:
        close.mark_failed(
            cycle_id=chunk.cycle_id,
            run=chunk.run,
            error=_(
                "chunk %(n)s (%(m)s members) was started %(d)s times without finishing: it keeps stopping its worker "
                "(out of memory, or killed). Fix the cause, then retry the close."
            )
            % {"n": chunk.position + 1, "m": len(chunk.staff_ids), "d": chunk.deliveries - 1},
        )
        return False
    return True


def stall_bound(cycle: AppraisalCycle, chunks=None) -> datetime.timedelta:
    """How long a chunk may go without reporting before the watchdog sends it again.

    ``CLOSE_STALL_FACTOR`` × the median time the run's finished chunks took, or, before any
    finished, × the chunk's members × ``CLOSE_SECONDS_PER_MEMBER``; never under
    ``CLOSE_STALL_MIN_SECONDS``.
    """
    chunks = chunks if chunks is not None else list(CloseChunk.objects.filter(cycle=cycle, run=cycle.close_run))
    took = [(c.done_at - c.started_at).total_seconds() for c in chunks if c.done_at and c.started_at]
    if took:
        typical = statistics.median(took)
    else:
        typical = max((len(c.staff_ids) for c in chunks), default=0) * conf("CLOSE_SECONDS_PER_MEMBER")
    return datetime.timedelta(seconds=max(conf("CLOSE_STALL_MIN_SECONDS"), conf("CLOSE_STALL_FACTOR") * typical))


def last_progress(cycle: AppraisalCycle):
    return cycle.progress_at or cycle.closing_started_at


def stalled_for(cycle: AppraisalCycle, now=None) -> datetime.timedelta | None:
    """How long a running close has gone past its bound without progress; None while it is on time."""
    if cycle.state != CycleState.CLOSING or last_progress(cycle) is None:
        return None
    since = (now or timezone.now()) - last_progress(cycle)
    bound = stall_bound(cycle)
    return since - bound if since > bound else None


def overdue(*, now=None) -> list[Send]:
    """The watchdog: every running close's chunks and scoring steps that are late, sent again or failed."""
    now = now or timezone.now()
    sends: list[Send] = []
    for cycle in AppraisalCycle.objects.filter(state=CycleState.CLOSING):
        with transaction.atomic():
            sends += _overdue_in(cycle.pk, now)
    return sends


def _overdue_in(cycle_id: int, now) -> list[Send]:
    cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle_id)
    if cycle.state != CycleState.CLOSING:
        return []
    chunks = list(CloseChunk.objects.select_for_update().filter(cycle=cycle, run=cycle.close_run))
    bound = stall_bound(cycle, chunks)
    late = [c for c in chunks if c.state == ChunkState.QUEUED and (c.sent_at is None or now - c.sent_at > bound)]
    for chunk in late:
        if chunk.sent_at is not None and chunk.resends >= conf("CLOSE_MAX_RESENDS"):
            close.mark_failed(
                cycle_id=cycle.pk,
                run=cycle.close_run,
                error=_(
                    "chunk %(n)s (%(m)s members) did not report after %(r)s sends, %(s)s s apart: the workers may be "
                    "down or overloaded. Start them, then retry the close."
                )
                % {
                    "n": chunk.position + 1,
                    "m": len(chunk.staff_ids),
                    "r": chunk.resends + 1,
                    "s": int(bound.total_seconds()),
                },
            )
            return []
        chunk.resends += chunk.sent_at is not None
        chunk.attempt, chunk.sent_at = chunk.attempt + 1, now
    CloseChunk.objects.bulk_update(late, ["attempt", "resends", "sent_at"])
    sends = [Send("chunk", c.pk, c.attempt) for c in late]
    if chunks and all(c.state == ChunkState.DONE for c in chunks):
        unsent_score = cycle.score_sent_at is None
        if unsent_score or now - cycle.score_sent_at > bound:
            if cycle.score_attempt > conf("CLOSE_MAX_RESENDS"):
                close.mark_failed(
                    cycle_id=cycle.pk,
                    run=cycle.close_run,
                    error=_(
                        "the scoring step did not report after %(r)s sends: the workers may be down. Start them, "
                        "then retry the close."
                    )
                    % {"r": cycle.score_attempt},
                )
                return []
            AppraisalCycle.objects.filter(pk=cycle.pk).update(
                score_attempt=F("score_attempt") + (0 if unsent_score else 1), score_sent_at=now
            )
            sends.append(Send("score", cycle.pk, cycle.close_run))
    return sends


def step_failed(*, step: str, args: tuple, error: str) -> None:
    """A close step that raised after its retries: the close fails (unless the step was superseded)."""
    if step == "chunk":
        chunk_id, attempt = args
        chunk = CloseChunk.objects.filter(pk=chunk_id, attempt=attempt).first()
        if chunk is not None:
            close.mark_failed(cycle_id=chunk.cycle_id, run=chunk.run, error=error)
    else:
        cycle_id, run = args
        close.mark_failed(cycle_id=cycle_id, run=run, error=error)


def run_here(*, cycle_id: int, run: int) -> None:
    """Every step of a close in this process, one after the other; a failure marks the cycle failed."""
    try:
        sends = claim_unsent(cycle_id=cycle_id, run=run)
        for send in sends:
            scoring = run_chunk(chunk_id=send.id, attempt=send.number)
            if scoring is not None:
                close.cycle_score(cycle_id=cycle_id, run=run)
    except Exception as exc:
        close.mark_failed(cycle_id=cycle_id, run=run, error=f"{type(exc).__name__}: {exc}")
        raise
