"""The one place numbers are rounded.

Every amount is a ``Decimal`` rounded half-up to the cent here, and every figure a person
or an export reads (a score, a share, a rate) is rounded here too, once, from its exact
value; totals are sums of rounded lines. Python's default rounding is half-even, so never
call ``round()`` or ``quantize()`` anywhere else.
"""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

MONEY_FIELD = {"max_digits": 14, "decimal_places": 2}
QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(11)}


def to_decimal(value) -> Decimal:
    """Exact Decimal from str, int, Decimal or Fraction (floats are refused).

    >>> to_decimal("1.005")
    Decimal('1.005')
    """
    if type(value) is Decimal:
        return value
    if isinstance(value, float):
        raise TypeError("floats are not accepted near money")
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


def round_half_up(value, places: int = 2) -> Decimal:
    """Round a Decimal or Fraction half-up to ``places`` decimals, exactly.

    >>> round_half_up(Decimal("2.675"))
    Decimal('2.68')
    >>> round_half_up(Fraction(1, 8))
    Decimal('0.13')
    >>> round_half_up(Decimal("-2.675"))
    Decimal('-2.68')
    >>> round_half_up(Fraction(-1, 300), 2), round_half_up(Fraction(2, 3), 10), round_half_up(Fraction(7), 0)
    (Decimal('0.00'), Decimal('0.6666666667'), Decimal('7'))
    """
    if type(value) is Decimal:  # the common case first: isinstance against Fraction's ABC is slow
        return value.quantize(QUANTUM.get(places) or Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if isinstance(value, Fraction):
        # Integer arithmetic, then an exact Decimal from its digits: no context precision involved.
        numerator, denominator = value.numerator, value.denominator
        whole, remainder = divmod(abs(numerator) * 10**places, denominator)
        if remainder * 2 >= denominator:
            whole += 1
        return Decimal(f"{'-' if numerator < 0 and whole else ''}{whole}e-{places}")
    return Decimal(value).quantize(QUANTUM.get(places) or Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def round_money(value) -> Decimal:
    """Round an amount half-up to the cent.

    >>> round_money(Decimal("0.125"))
    Decimal('0.13')
    >>> round_money(Fraction(-1, 200))
    Decimal('-0.01')
    """
    return round_half_up(value, 2)
