"""Exact numbers from YAML, JSON and the database, and their canonical written forms."""

from decimal import Decimal
from fractions import Fraction


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
