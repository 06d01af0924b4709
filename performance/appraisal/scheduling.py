"""Cycle frequencies and the beat tick: open the current cycle, close the ones past their grace."""

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import AppraisalCycle, CycleState
from .services import cycle_close, cycle_create

log = logging.getLogger(__name__)
FREQUENCIES = ("half-monthly", "monthly", "quarterly")


def window_for(frequency: str, day: datetime.date) -> tuple[str, datetime.date, datetime.date]:
    """(name, start, end) of the cycle containing ``day``; half-monthly cycles start on the 1st and 16th.

    >>> window_for("half-monthly", datetime.date(2026, 2, 20))
    ('2026-02-H2', datetime.date(2026, 2, 16), datetime.date(2026, 3, 1))
    >>> window_for("quarterly", datetime.date(2026, 11, 22))
    ('2026-Q4', datetime.date(2026, 10, 1), datetime.date(2027, 1, 1))
    """
    first = day.replace(day=1)
    next_month = (first + datetime.timedelta(days=32)).replace(day=1)
    if frequency == "half-monthly":
        if day.day < 16:
            return f"{day:%Y-%m}-H1", first, first.replace(day=16)
        return f"{day:%Y-%m}-H2", first.replace(day=16), next_month
    if frequency == "monthly":
        return f"{day:%Y-%m}", first, next_month
    if frequency == "quarterly":
        q = (day.month - 1) // 3
        start = datetime.date(day.year, 3 * q + 1, 1)
        end = datetime.date(day.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
        return f"{day.year}-Q{q + 1}", start, end
    raise ValueError(f"unknown frequency {frequency!r}; one of {', '.join(FREQUENCIES)}")


def cycles_tick(*, now=None) -> dict:
    """Idempotent: opens the current cycle once, and closes each open cycle past end + grace once."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    opened = closed = 0
    frequency = settings.APPRAISAL.get("AUTO_OPEN_FREQUENCY")
    if frequency:
        name, start, end = window_for(frequency, today)
        if not AppraisalCycle.objects.filter(name=name).exists():
            cycle_create(name=name, start=start, end=end)
            opened += 1
    grace = datetime.timedelta(hours=settings.APPRAISAL["CLOSE_GRACE_HOURS"])
    for cycle in AppraisalCycle.objects.filter(state=CycleState.OPEN, end__lte=today):
        end_at = datetime.datetime.combine(cycle.end, datetime.time(), tzinfo=timezone.get_current_timezone())
        if end_at + grace <= now:
            try:
                cycle_close(cycle=cycle)
                closed += 1
            except ValidationError as exc:
                log.warning("cycle %s not closed: %s", cycle.name, exc)
    return {"opened": opened, "closed": closed}


@shared_task
def cycles_tick_task() -> None:
    """The beat's tick (every 15 minutes): ``cycles_tick`` now."""
    cycles_tick(now=timezone.now())
