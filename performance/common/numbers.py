"""Exact numbers from YAML, JSON, forms and the database, and their canonical written forms."""

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.utils.translation import gettext as _

from .money import round_half_up

MAX_TEXT = 100  # characters of a number typed by a person or read from a file


def bounded_decimal(value, *, max_digits: int = 24, places: int = 10, low=None, high=None) -> Decimal:
    """A number typed by a person or read from a file, checked before any arithmetic touches it.

    Refuses (ValueError, with the reason) what is not a finite number, what has more than
    ``max_digits - places`` digits before the point or more than ``places`` after it, and
    what lies outside [``low``, ``high``]. Every check reads the number's digits and exponent
    only, so ``1e999999999`` is refused in microseconds instead of being expanded into a
    billion digits (as ``Fraction("1e999999999")`` would).

    >>> bounded_decimal("85.5", max_digits=6, places=2, low=0, high=100), bounded_decimal("0e999999999")
    (Decimal('85.5'), Decimal('0'))
    >>> for bad in ("1e999999999", "NaN", "-Infinity", "abc", "100.001", "101"):
    ...     try:
    ...         bounded_decimal(bad, max_digits=6, places=2, low=0, high=100)
    ...     except ValueError as exc:
    ...         print(exc)
    '1e999999999' is too large
    'NaN' is not a number
    '-Infinity' is not a number
    'abc' is not a number
    '100.001' has more than 2 decimal places
    101 is outside 0–100
    """
    if isinstance(value, bool):
        raise ValueError(_("%(v)r is not a number") % {"v": value})
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, Decimal):
        text = str(value)
    else:
        text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValueError(_("%(v)r… is not a number") % {"v": text[:20]})
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValueError(_("%(v)r is not a number") % {"v": text}) from None
    if not number.is_finite():
        raise ValueError(_("%(v)r is not a number") % {"v": text})
    if number and number.adjusted() >= max_digits - places:
        raise ValueError(_("%(v)r is too large") % {"v": text})
    exponent = number.as_tuple().exponent
    if exponent < -places:
        quantized = round_half_up(number, places)
        if number != quantized:  # trailing zeros are fine
            raise ValueError(_("%(v)r has more than %(n)s decimal places") % {"v": text, "n": places})
        number = quantized  # 0E-999999999 becomes 0.00: no huge exponent reaches the arithmetic
    elif exponent > 0:
        number = round_half_up(number, 0)  # exact: 0E+999999999 becomes 0, 1E+2 becomes 100
    if (low is not None and number < low) or (high is not None and number > high):
        if high is None:
            raise ValueError(_("%(v)s must be at least %(low)s") % {"v": number, "low": low})
        if low is None:
            raise ValueError(_("%(v)s must be at most %(high)s") % {"v": number, "high": high})
        raise ValueError(_("%(v)s is outside %(low)s–%(high)s") % {"v": number, "low": low, "high": high})
    return number


def frac(value) -> Fraction:
    """Exact fraction of a YAML/JSON number: 0.85 means 17/20, not the binary float.

    >>> frac(0.85), frac("1.5"), frac(Decimal("0.10"))
    (Fraction(17, 20), Fraction(3, 2), Fraction(1, 10))
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(str(value))


def canonical(value):
    """Numbers as canonical strings, so 0.85, '0.85' and Decimal('0.8500') compare equal.

    >>> canonical({"a": [0.85, Decimal("0.8500"), 1, True, None]})
    {'a': ['0.85', '0.85', '1', True, None]}
    """
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return format(Decimal(repr(value) if isinstance(value, float) else str(value)).normalize(), "f")


def yaml_number(value: Decimal):
    """A stored Decimal as the number a person writes in YAML: 80 for 80.0000, 0.85 for 0.8500."""
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral() else float(value)


def plain_numbers(value):
    """JSON-safe copy keeping numbers as written (floats stay floats; read back with ``frac``)."""
    if isinstance(value, dict):
        return {k: plain_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_numbers(v) for v in value]
    if isinstance(value, Decimal):
        return yaml_number(value)
    return value


def wrong_weight_total(weights):
    """The one rule for the weights of one level (sections, a section's indicators, a scorecard's items).

    They must sum to 100: returns their sum when it is not 100, None when it is (or while
    some weight is still missing).

    >>> wrong_weight_total([80, 20]), wrong_weight_total([Decimal("50"), Decimal("45.5")])
    (None, Decimal('95.5'))
    """
    if not weights or any(w is None for w in weights):
        return None
    total = sum(weights)
    return None if total == 100 else total
