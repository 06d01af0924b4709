"""Numbers and values as text: for the contract's export cells and for people.

Every money or number format in the product is one of these functions.
"""

import datetime
from decimal import Decimal
from fractions import Fraction

from django.utils import timezone

from .money import round_half_up, round_money


def money_text(value) -> str:
    """An amount with exactly two places; empty for none.

    >>> money_text(Decimal("12.5")), money_text(None), money_text(Decimal("-0.00"))
    ('12.50', '', '-0.00')
    """
    return "" if value is None else format(round_money(Decimal(value)), "f")


def fixed_text(value, places: int) -> str:
    """A figure with exactly ``places`` decimals, rounded half-up once (by ``money``); empty for none.

    Give it the exact value (a Fraction) or a figure stored at ``places`` already: rounding a
    figure stored at more places is the double rounding the contract forbids.

    >>> from fractions import Fraction
    >>> fixed_text(Decimal("21.07"), 2), fixed_text(Fraction(1, 8), 2), fixed_text(None, 4)
    ('21.07', '0.13', '')
    """
    return "" if value in (None, "") else format(round_half_up(value, places), "f")


def megabytes_text(size_bytes) -> str:
    """A size in megabytes (MiB) to two places, half-up once, without trailing zeros: 0.08, 1.5, 100.

    >>> megabytes_text(80_000), megabytes_text(1_572_864), megabytes_text(100 * 1024 * 1024)
    ('0.08', '1.5', '100')
    """
    return decimal_text(round_half_up(Fraction(int(size_bytes), 1024 * 1024), 2))


def normalized(value: Decimal | None) -> Decimal | None:
    """A stored value without trailing zeros, still a number (XLSX keeps it numeric).

    >>> normalized(Decimal("0.8400000000")), normalized(Decimal("5.0000000000")), normalized(None)
    (Decimal('0.84'), Decimal('5'), None)
    """
    if value is None:
        return None
    value = value.normalize()
    return Decimal(int(value)) if value == value.to_integral() else value  # 5E+1 → 50: exact, no rounding


def decimal_text(value) -> str:
    """A stored rate, factor or raw value without trailing zeros: 0.10000000 → 0.1, 80.0000 → 80.

    >>> decimal_text(Decimal("0.10000000")), decimal_text(Decimal("80.0000")), decimal_text(None)
    ('0.1', '80', '')
    """
    if value in (None, ""):
        return ""
    return format(Decimal(value).normalize(), "f")


def multiplier_text(value) -> str:
    """A payout multiplier as the contract exports it: no trailing zeros, at least one decimal.

    >>> multiplier_text(Decimal("1.00000000")), multiplier_text(Decimal("0.64000000"))
    ('1.0', '0.64')
    """
    text = decimal_text(value)
    return text if "." in text else text + ".0"


def cell(value):
    """A value in the contract's file formats: ISO 8601 times in TIME_ZONE, true/false, empty for n/a."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value
