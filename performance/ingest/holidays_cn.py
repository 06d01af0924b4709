"""Mainland China's public holidays and make-up working days (调休), from a maintained data package.

The State Council publishes each year's arrangement in the previous November; the
``chinese-calendar`` package (PyPI) carries it as data and is released when it changes,
so a new year is an upgrade of the package, not a list typed into this code. The days go
through the ``holidays`` import kind: the same checks, writes, due-time recompute and
import batch as ``import_data holidays``.
"""

import datetime
from dataclasses import dataclass
from importlib.metadata import version

import chinese_calendar
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from performance.common.import_doors import checksum

from .batches import run_import
from .kinds import KINDS
from .kinds.holidays import HOLIDAY, WORKDAY


@dataclass(frozen=True)
class HolidaysLoaded:
    holidays: int
    workdays: int
    created: int
    source: str


def china_days(year: int) -> list[tuple[datetime.date, str, str]]:
    """(date, kind, name) of the year's official holidays and make-up working days, by date."""
    names = {h.value: h.chinese for h in chinese_calendar.Holiday}
    days = [(d, HOLIDAY, names.get(n, n)) for d, n in chinese_calendar.holidays.items() if d.year == year]
    days += [(d, WORKDAY, names.get(n, n)) for d, n in chinese_calendar.workdays.items() if d.year == year]
    return sorted(days)


def holidays_load(*, year: int, calendar: str | None = None, actor=None) -> HolidaysLoaded:
    """Enter the year's days into ``calendar`` (the default calendar when None); again: changes nothing twice."""
    days = china_days(year)
    if not days:
        raise ValidationError(
            _("chinese-calendar %(v)s has no holidays for %(year)s; upgrade the package once they are published.")
            % {"v": version("chinese-calendar"), "year": year}
        )
    header = ["date", "kind", "name", "calendar"]
    rows = [(i, [d.isoformat(), kind, name, calendar or ""]) for i, (d, kind, name) in enumerate(days, start=2)]
    text = "\n".join(",".join(r) for _n, r in [(1, header), *rows])
    source = version("chinese-calendar")
    result, _batch = run_import(
        kind=KINDS["holidays"],
        header=header,
        rows=rows,
        actor=actor,
        file_name=f"chinese-calendar {source} {year}",
        checksum=checksum(text.encode()),
        door="load_holidays",
    )
    return HolidaysLoaded(
        holidays=sum(1 for _d, k, _n in days if k == HOLIDAY),
        workdays=sum(1 for _d, k, _n in days if k == WORKDAY),
        created=result.created,
        source=source,
    )
