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


def _working_intervals(start: datetime.datetime, calendar: Calendar):
    """The working stretches from ``start`` on, as (begin, end) aware datetimes."""
    tz = ZoneInfo(calendar.time_zone)
    local = start.astimezone(tz)
    day = local.date()
    for _ in range(MAX_DAYS):
        for begin_t, end_t in calendar.periods_on(day):
            begin = datetime.datetime.combine(day, begin_t, tzinfo=tz)
            end = datetime.datetime.combine(day, end_t, tzinfo=tz)
            if local < end:
                yield max(begin, local), end
        day += datetime.timedelta(days=1)
    raise ValueError("the calendar has no working time in the next ten years")


def _minus_pauses(begin, end, pauses):
    """Parts of [begin, end) outside every pause (pauses sorted, each (start, end or None))."""
    for p_start, p_end in pauses:
        if p_end is not None and p_end <= begin:
            continue
        if p_start >= end:
            break
        if p_start > begin:
            yield begin, p_start
        if p_end is None:
            return
        begin = max(begin, p_end)
        if begin >= end:
            return
    yield begin, end


def add_working_time(start: datetime.datetime, minutes: int, calendar: Calendar, pauses=()) -> datetime.datetime:
    """``start`` plus ``minutes`` of working time on ``calendar``, as an aware datetime."""
    return _add(_working_intervals(start, calendar), minutes, pauses)


def _add(intervals, minutes, pauses):
    remaining = datetime.timedelta(minutes=minutes)
    pauses = sorted(pauses, key=lambda p: p[0])
    for begin, end in intervals:
        for b, e in _minus_pauses(begin, end, pauses):
            if remaining <= e - b:
                return b + remaining
            remaining -= e - b
        if pauses and pauses[-1][1] is None and pauses[-1][0] <= end:
            return None
    raise ValueError("the calendar has no working time in the next ten years")


def due_at(start: datetime.datetime, minutes: int, clock: str, calendar: Calendar, pauses=()):
    """The due time; time inside ``pauses`` (waiting on the customer) does not count.

    A pause still running (end None) stops the clock: the due time is then None.
    """
    if clock == "calendar":
        if not pauses:
            return start + datetime.timedelta(minutes=minutes)
        utc = start.astimezone(datetime.UTC)
        far = utc + datetime.timedelta(days=MAX_DAYS)
        return _add(
            [(utc, far)], minutes, [(a.astimezone(datetime.UTC), b and b.astimezone(datetime.UTC)) for a, b in pauses]
        )
    return add_working_time(start, minutes, calendar, pauses)


def is_working(moment: datetime.datetime, calendar: Calendar) -> bool:
    local = moment.astimezone(ZoneInfo(calendar.time_zone))
    return any(b <= local.time() < e for b, e in calendar.periods_on(local.date()))


def paused_minutes(pauses, now) -> int:
    return int(sum(((b or now) - a).total_seconds() for a, b in pauses) // 60)
