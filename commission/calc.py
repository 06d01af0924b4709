"""Commission arithmetic over plain values: exact fractions, half-up cents, no database.

Each order line and each clawback line is rounded on its own; totals are sums of
rounded lines (contract, commission steps 1–5).
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from performance.common.money import round_money, to_decimal
from performance.common.numbers import frac

ZERO = Decimal("0.00")


class OrderLine(NamedTuple):  # a tuple: a close makes one per order
    net: Decimal
    rate: Decimal  # category (or default) rate plus the high-value extra, if any
    extra: Decimal
    amount: Decimal


NO_EXTRA = Decimal(0)


def order_line(
    *, amount: Decimal, refunded: Decimal, refunded_in_window: bool, rate, high_value_min=None, extra_rate=0
) -> OrderLine:
    """base = net × rate (+ net × extra when amount ≥ min), rounded half-up to the cent."""
    net = amount - refunded if refunded_in_window else amount
    if high_value_min is not None and amount >= high_value_min:
        extra = to_decimal(extra_rate)
        total_rate = to_decimal(rate) + extra
    else:
        extra, total_rate = NO_EXTRA, to_decimal(rate)
    # a product of finite decimals is exact in Decimal: no Fraction needed before the one rounding
    return OrderLine(net, total_rate, extra, round_money(net * total_rate))


def band_multiplier(bands, value) -> Fraction:
    """The multiplier of the first band, in descending min, that the value meets; else 1."""
    if value is None:
        return Fraction(1)
    for minimum, multiplier in sorted(bands, key=lambda b: frac(b[0]), reverse=True):
        if frac(value) >= frac(minimum):
            return frac(multiplier)
    return Fraction(1)


def modifier_factors(modifiers: dict, metrics: dict, grade: str | None) -> list[tuple[str, object, Fraction]]:
    """(name, the value it read, factor) for each modifier: metrics by name, then the grade.

    A fixed order, since JSON objects in PostgreSQL do not keep the order they were written in.
    """
    factors = []
    for name, spec in sorted(modifiers.items(), key=lambda m: (m[0] == "grade", m[0])):
        if name == "grade":
            factors.append((name, grade, frac(spec[grade]) if grade in spec else Fraction(1)))
        else:
            value = metrics.get(name)
            factors.append((name, value, band_multiplier(spec, value)))
    return factors


@dataclass(frozen=True)
class Commission:
    gross: Decimal
    multiplier: Fraction
    uncapped: Decimal
    commission: Decimal

    @property
    def cap_factor(self) -> Fraction:
        """commission / uncapped, exact; 1 when nothing was earned."""
        return Fraction(1) if self.uncapped == 0 else Fraction(self.commission) / Fraction(self.uncapped)


def commission(*, lines: list[Decimal], multiplier: Fraction, cap: Decimal | None) -> Commission:
    gross = sum(lines, ZERO)
    uncapped = round_money(Fraction(gross) * multiplier)
    capped = uncapped if cap is None else min(uncapped, cap)
    return Commission(gross=gross, multiplier=multiplier, uncapped=uncapped, commission=capped)


def clawback_line(*, refunded: Decimal, rate: Fraction, multiplier: Fraction, cap_factor: Fraction) -> Decimal:
    """− round(refunded × rate × multiplier × cap factor, 2), at the terms the order was paid under."""
    return -round_money(Fraction(refunded) * rate * multiplier * cap_factor)


def settle(
    *, commission: Decimal, clawback: Decimal, carried: Decimal, extra: Decimal = ZERO
) -> tuple[Decimal, Decimal]:
    """(total paid, balance carried forward): a negative total pays 0 and carries on."""
    total = commission + clawback + carried + extra
    if total < 0:
        return ZERO, total
    return total, ZERO


def tiered_lines(*, sales: Decimal, quota: Decimal, tiers) -> list[tuple[Fraction, Fraction, Decimal, Decimal]]:
    """Quota attainment with accelerators: each slice of sales at its tier's rate.

    tiers: [[from_attainment, rate], …], e.g. [[0, 0.05], [1.0, 0.10], [1.5, 0.20]]:
    sales up to 100% of quota at 5%, 100–150% at 10%, above 150% at 20%.
    Returns (from, to, slice of sales, line amount) per tier that has sales.
    """
    bounds = sorted((frac(a), frac(r)) for a, r in tiers)
    out = []
    sales_f = Fraction(sales)
    for i, (start, rate) in enumerate(bounds):
        low = start * Fraction(quota)
        high = bounds[i + 1][0] * Fraction(quota) if i + 1 < len(bounds) else None
        top = sales_f if high is None else min(sales_f, high)
        if top <= low:
            continue
        portion = top - low
        out.append((start, rate, round_money(portion), round_money(portion * rate)))
    return out
