"""Cell parsers: each takes a non-empty cell (text from CSV, a typed value from XLSX) and returns
its value or raises ValueError with a reason that names the value.

Most also carry ``sql``: how the set-based path (``ingest.bulk``) reads the same cell on
PostgreSQL. That description only ever accepts cells this parser accepts, with the same
value; anything else sends the whole file through the parsers here, which name the error.
"""

import datetime
import functools
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from performance.common.money import MONEY_FIELD, round_money
from performance.common.numbers import bounded_decimal


def text(v) -> str:
    """A cell as stripped text; a whole number from XLSX (5.0) as 5."""
    if v.__class__ is str:
        return v.strip()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_datetime(v) -> datetime.datetime:
    """ISO 8601 (a space or T between date and time); without an offset it is in TIME_ZONE."""
    if isinstance(v, datetime.datetime):
        dt = v
    else:
        s = text(v)
        try:
            dt = _fromisoformat(s)
        except ValueError:
            raise ValueError(_("%(v)r is not an ISO 8601 date-time") % {"v": s}) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_zone(settings.TIME_ZONE))
    return dt


_fromisoformat = datetime.datetime.fromisoformat


class Sql:
    """A cell type for the set-based path: ``kind`` and its parameters (see ``ingest.bulk``)."""

    def __init__(self, kind: str, **params):
        self.kind, self.params = kind, params


parse_datetime.sql = Sql("datetime")


def parse_date(v) -> datetime.date:
    if isinstance(v, datetime.datetime):
        return v.date()
    if isinstance(v, datetime.date):
        return v
    try:
        return datetime.date.fromisoformat(text(v))
    except ValueError:
        raise ValueError(_("%(v)r is not an ISO 8601 date (YYYY-MM-DD)") % {"v": text(v)}) from None


def parse_money(v) -> Decimal:
    """A non-negative amount with at most two decimals; XLSX floats are read via str()."""
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise ValueError(_("%(v)r is not an amount") % {"v": v}) from None
    if not d.is_finite():
        raise ValueError(_("%(v)r is not an amount") % {"v": v})
    if d and d.adjusted() >= MONEY_FIELD["max_digits"] - MONEY_FIELD["decimal_places"]:
        raise ValueError(_("%(v)r is too large") % {"v": v})  # before quantize, which cannot hold it
    if d < 0:
        raise ValueError(_("an amount cannot be negative"))
    cents = round_money(d)
    if d != cents:
        raise ValueError(_("%(v)s has more than two decimal places") % {"v": d})
    return cents


def parse_decimal(v) -> Decimal:
    """A finite number that fits a value column (24 digits, 10 after the point)."""
    return bounded_decimal(v)


def parse_decimal_places(places: int, low=None, max_digits: int = 16):
    """A number with at most ``places`` decimals (more is refused, never rounded), at least ``low``."""

    def parse(v):
        return bounded_decimal(v, max_digits=max_digits, places=places, low=low)

    parse.sql = Sql("decimal", max_digits=max_digits, places=places, low=low)
    return parse


TRUE, FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}


def parse_bool(v) -> bool:
    if isinstance(v, bool):
        return v
    s = text(v).lower()
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise ValueError(_("%(v)r is not true/false") % {"v": text(v)})


parse_bool.sql = Sql("bool", true=TRUE, false=FALSE)


def parse_int(low=None, high=None):
    def parse(v):
        s = text(v)
        try:
            n = int(s)
        except ValueError:
            raise ValueError(_("%(v)r is not a whole number") % {"v": s}) from None
        if (low is not None and n < low) or (high is not None and n > high):
            if high is None:
                raise ValueError(_("%(n)s must be at least %(low)s") % {"n": n, "low": low})
            raise ValueError(_("%(n)s is outside %(low)s–%(high)s") % {"n": n, "low": low, "high": high})
        return n

    parse.sql = Sql("int", low=low, high=high)
    return parse


def parse_choice(choices):
    values = {c.lower(): c for c in choices}

    def parse(v):
        s = text(v).lower()
        if s not in values:
            raise ValueError(_("%(v)r is not one of %(choices)s") % {"v": text(v), "choices": ", ".join(choices)})
        return values[s]

    parse.sql = Sql("choice", values=values)
    return parse


def parse_str(max_length):
    def parse(v):
        s = text(v)
        if len(s) > max_length:
            raise ValueError(_("longer than %(n)s characters") % {"n": max_length})
        return s

    parse.sql = Sql("str", max_length=max_length)
    return parse


def parse_url(max_length):
    """A link to the record in its source system: http(s) only, so a page can link to it safely."""
    check = URLValidator(schemes=["http", "https"])

    def parse(v):
        s = text(v)
        if len(s) > max_length:
            raise ValueError(_("longer than %(n)s characters") % {"n": max_length})
        try:
            check(s)
        except ValidationError:
            raise ValueError(_("%(v)r is not an http(s) link") % {"v": s}) from None
        return s

    parse.sql = Sql("url", max_length=max_length)  # the set-based path takes empty cells; links go row by row
    return parse
