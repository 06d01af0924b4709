"""Thin Celery tasks of the close: take ids, run one step. Every step is safe to run twice.

A task body imports its service (the services send these tasks, so this module cannot import
them at the top). What to send is decided in ``runs``; ``send`` only hands it to the broker,
and a broker that is down leaves the step for the watchdog to send again.
"""

import logging
import time

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

log = logging.getLogger(__name__)
RETRY = {"autoretry_for": (Exception,), "retry_backoff": True, "retry_backoff_max": 60, "max_retries": 5}


class CloseStep(Task):
    """A step whose last failure (after its retries) fails the close, with the error."""

    step = ""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from .runs import step_failed

        step_failed(step=self.step, args=tuple(args), error=f"{type(exc).__name__}: {exc}")


@shared_task(base=CloseStep, step="chunk", acks_late=True, **RETRY)
def cycle_metrics_chunk_task(chunk_id: int, attempt: int) -> None:
    from .runs import run_chunk

    pause = settings.APPRAISAL["CHUNK_PAUSE_SECONDS"]
    if pause:  # fault-injection knob for the worker-loss tests; 0 in every real deployment
        time.sleep(pause)
    scoring = run_chunk(chunk_id=chunk_id, attempt=attempt)
    if scoring is not None:
        send([scoring])


@shared_task(base=CloseStep, step="score", acks_late=True, **RETRY)
def cycle_score_task(cycle_id: int, run: int) -> None:
    from .close import cycle_score

    cycle_score(cycle_id=cycle_id, run=run)


@shared_task
def close_watchdog_task() -> None:
    """The beat's watchdog (every CLOSE_WATCHDOG_SECONDS): send late close steps again."""
    from .runs import overdue

    send(overdue(now=timezone.now()))


def send_unsent(cycle_id: int, run: int) -> None:
    """Hand a run's chunks to the workers (on commit of the close that planned them)."""
    from .runs import claim_unsent

    send(claim_unsent(cycle_id=cycle_id, run=run))


def send(sends) -> None:
    """Each step to the broker; what the broker refuses is left for the watchdog."""
    from .runs import unsent

    for i, step in enumerate(sends):
        task = cycle_metrics_chunk_task if step.kind == "chunk" else cycle_score_task
        try:
            task.delay(step.id, step.number)
        except BrokerError as exc:
            unsent(sends=sends[i:], error=str(exc))
            return
