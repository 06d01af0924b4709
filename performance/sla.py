"""SLA clocks: pure functions over plain values, no database.

A due time is the receipt plus a target counted on a clock: calendar hours, or
working hours of a business calendar (working periods per weekday, holidays, and
make-up working days that follow Monday's hours). Received outside working hours,
the count starts at the next working minute; a due time that lands exactly at the
end of a working period is that moment (18:00), not the next morning.
"""

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MAX_DAYS = 3660


@dataclass(frozen=True)
class Calendar:
    time_zone: str
    periods: dict = field(default_factory=dict)  # weekday -> [(time, time), …]
    holidays: frozenset = frozenset()
    workdays: frozenset = frozenset()  # make-up working days

    def periods_on(self, day: datetime.date):
        if day in self.holidays:
            return []
        if day in self.workdays:
            return self.periods.get(day.weekday()) or self.periods.get(0, [])
        return self.periods.get(day.weekday(), [])


STANDARD = Calendar(
    time_zone="Asia/Shanghai",
    periods={d: [(datetime.time(9), datetime.time(18))] for d in range(5)},
)


def add_working_time(start: datetime.datetime, minutes: int, calendar: Calendar) -> datetime.datetime:
    """``start`` plus ``minutes`` of working time on ``calendar``, as an aware datetime."""
    tz = ZoneInfo(calendar.time_zone)
    local = start.astimezone(tz)
    remaining = datetime.timedelta(minutes=minutes)
    day = local.date()
    for _ in range(MAX_DAYS):
        for begin_t, end_t in calendar.periods_on(day):
            begin = datetime.datetime.combine(day, begin_t, tzinfo=tz)
            end = datetime.datetime.combine(day, end_t, tzinfo=tz)
            if local >= end:
                continue
            begin = max(begin, local)
            available = end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += datetime.timedelta(days=1)
    raise ValueError("the calendar has no working time in the next ten years")


def due_at(start: datetime.datetime, minutes: int, clock: str, calendar: Calendar) -> datetime.datetime:
    if clock == "calendar":
        return start + datetime.timedelta(minutes=minutes)
    return add_working_time(start, minutes, calendar)


def breached(event_at, due, now) -> bool:
    """Breached: the event came after its due time, or has not come and the due time has passed."""
    if due is None:
        return False
    if event_at is not None:
        return event_at > due
    return now > due
