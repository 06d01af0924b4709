"""Holidays and make-up working days of a business calendar; open complaints' due times follow."""

from django.utils.translation import gettext as _

from performance.sla.models import BusinessCalendar, CalendarDay, Complaint
from performance.sla.services import complaints_recompute_due

from ..parsers import parse_choice, parse_date, parse_str
from ..schema import Column, ErrorLog, Schema
from .base import Imported, register

HOLIDAY, WORKDAY = "holiday", "workday"
SCHEMA = Schema(
    Column("date", parse_date, required=True),
    Column(
        "kind", parse_choice([HOLIDAY, WORKDAY]), required=True, export=lambda day: WORKDAY if day.working else HOLIDAY
    ),
    Column("name", parse_str(100), default=""),
    Column("calendar", parse_str(100), export="calendar__name"),
)


@register("holidays", model=CalendarDay, schema=SCHEMA, key=("calendar", "date"))
def import_holidays(header, rows, *, actor=None, reason=None) -> Imported:
    index = SCHEMA.check_header(header)
    errors = ErrorLog()
    calendars = {c.name: c for c in BusinessCalendar.objects.all()}
    default = next((c for c in calendars.values() if c.is_default), None)
    parsed, seen = [], {}
    for number, values in rows:
        r = SCHEMA.parse(number, values, index, errors)
        if r is None:
            continue
        calendar = calendars.get(r["calendar"]) if r["calendar"] else default
        if calendar is None:
            errors.add(number, "calendar", _("unknown calendar %(v)r") % {"v": r["calendar"] or ""})
            continue
        key = (calendar.pk, r["date"])
        if key in seen:
            errors.add(number, "date", _("duplicate of row %(first)s in this file") % {"first": seen[key]})
        seen[key] = number
        parsed.append((calendar, r))
    errors.raise_if_any()
    existing = {
        (d.calendar_id, d.date): d
        for d in CalendarDay.objects.filter(
            calendar__in={c.pk for c, _r in parsed}, date__in={r["date"] for _c, r in parsed}
        )
    }
    new, changed = [], []
    for calendar, r in parsed:
        day = existing.get((calendar.pk, r["date"]))
        working = r["kind"] == WORKDAY
        if day is None:
            new.append(CalendarDay(calendar=calendar, date=r["date"], working=working, name=r["name"]))
        elif (day.working, day.name) != (working, r["name"]):
            day.working, day.name = working, r["name"]
            changed.append(day)
    CalendarDay.objects.bulk_create(new)
    CalendarDay.objects.bulk_update(changed, ["working", "name"])
    complaints_recompute_due(complaints=Complaint.objects.filter(resolved_at__isnull=True))
    return Imported(rows=len(parsed), created=len(new))
