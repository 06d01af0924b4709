"""Thin Celery tasks of the close: take ids, call one step of the pipeline. Chunks are safe to run twice.

A task body imports its service (the services enqueue these tasks, so this module cannot
import them at the top).
"""

import time

from celery import chord, shared_task
from django.conf import settings

RETRY = {"autoretry_for": (Exception,), "retry_backoff": True, "retry_backoff_max": 60, "max_retries": 5}


@shared_task(acks_late=True)
def cycle_close_task(cycle_id: int, run: int) -> None:
    from . import close

    cycle = close.current_run(cycle_id, run)
    if cycle is None:
        return
    header = [cycle_metrics_chunk_task.si(cycle_id, run, ids) for ids in close.cycle_chunks(cycle)]
    body = cycle_score_task.si(cycle_id, run).on_error(cycle_close_failed_task.s(cycle_id, run))
    try:
        chord(header)(body)
    except Exception as exc:
        # In-process (no broker) the chord runs right here: record the failure, then re-raise.
        if settings.CELERY_TASK_ALWAYS_EAGER:
            close.mark_failed(cycle_id=cycle_id, run=run, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(acks_late=True, **RETRY)
def cycle_metrics_chunk_task(cycle_id: int, run: int, staff_ids: list[int]) -> None:
    from .close import cycle_compute_metrics

    pause = settings.APPRAISAL["CHUNK_PAUSE_SECONDS"]
    if pause:  # fault-injection knob for the worker-loss test; 0 in every real deployment
        time.sleep(pause)
    cycle_compute_metrics(cycle_id=cycle_id, run=run, staff_ids=staff_ids)


@shared_task(acks_late=True, **RETRY)
def cycle_score_task(cycle_id: int, run: int) -> None:
    from .close import cycle_score

    cycle_score(cycle_id=cycle_id, run=run)


@shared_task
def cycle_close_failed_task(request, exc, traceback, cycle_id: int, run: int) -> None:
    from .close import mark_failed

    mark_failed(cycle_id=cycle_id, run=run, error=f"{type(exc).__name__}: {exc}")
