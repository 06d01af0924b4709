"""An independent reference model of the arithmetic in the product contract (/work/shared/contract.md).

Plain data in, plain data out, exact `Fraction` arithmetic throughout, standard library only. It imports nothing
from the product, so a differential test can compare the product against it. Every docstring quotes the contract
sentence it implements.

Conventions:
- Numbers may be given as int, str, Decimal, Fraction or float; a float is read as the decimal literal it prints
  as (YAML's `0.85` means 85/100, not the nearest binary float).
- `None` means undefined (n/a) everywhere.
- Indicator values and scores are keyed by `"<section>.<indicator>"`, like the results export columns.
- Money and scores that people read are `Decimal`s with exactly 2 places, from `round_half_up`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

NOT_RATED = "not_rated"
ZERO = Fraction(0)
ONE = Fraction(1)
HUNDRED = Fraction(100)


def frac(value) -> Fraction | None:
    """Read a number exactly; a float is read as its shortest decimal literal; `None` stays `None`."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def round_half_up(value, places: int = 2) -> Decimal:
    """Contract: "computed exactly and rounded once, half-up, at the places shown".

    Halves go away from zero; the result has exactly `places` places and is never negative zero.
    """
    x = frac(value)
    n = math.floor(abs(x) * 10**places + Fraction(1, 2))
    sign = 1 if x < 0 and n else 0
    return Decimal((sign, tuple(int(d) for d in str(n)), -places))


# ---------------------------------------------------------------------------------------------- scoring rules


def score_linear(value, floor, target) -> Fraction | None:
    """`linear {floor, target}`: 100 × clamp((v − floor) / (target − floor), 0, 1); target < floor means lower is
    better and works by the same formula."""
    v, lo, hi = frac(value), frac(floor), frac(target)
    if v is None:
        return None
    if lo == hi:
        raise ValueError("linear rule: target equals floor")
    return HUNDRED * min(max((v - lo) / (hi - lo), ZERO), ONE)


def score_threshold(value, target, direction: str = "higher") -> Fraction | None:
    """`threshold {target, direction: higher|lower}`: 100 if v ≥ target (higher) or v ≤ target (lower), else 0."""
    v, t = frac(value), frac(target)
    if v is None:
        return None
    met = v >= t if direction == "higher" else v <= t
    return HUNDRED if met else ZERO


def score_bands(value, bands, direction: str = "higher") -> Fraction | None:
    """`bands {bands: [[min, score], …], direction: higher|lower}`: higher: the score of the first band, in
    descending `min`, with v ≥ min; lower: the first, in ascending bound, with v ≤ bound; no band matches: 0."""
    v = frac(value)
    if v is None:
        return None
    pairs = [(frac(bound), frac(score)) for bound, score in bands]
    if direction == "higher":
        for bound, score in sorted(pairs, key=lambda p: p[0], reverse=True):
            if v >= bound:
                return score
    else:
        for bound, score in sorted(pairs, key=lambda p: p[0]):
            if v <= bound:
                return score
    return ZERO


def score_ratio(value, target) -> Fraction | None:
    """`ratio {target}`: 100 × min(v / target, 1). Edge rule: "A scoring rule never leaves 0–100: `ratio` of a
    negative value scores 0"."""
    v, t = frac(value), frac(target)
    if v is None:
        return None
    if t == 0:
        raise ValueError("ratio rule: target is 0")
    return HUNDRED * min(max(v / t, ZERO), ONE)


def score_rating(value, scale) -> Fraction | None:
    """`rating {scale}`: 100 × rating / scale (KCI items, entered by managers)."""
    v = frac(value)
    return None if v is None else HUNDRED * v / frac(scale)


def rank_scores(values: Mapping[str, object], direction: str = "higher") -> dict[str, Fraction | None]:
    """`rank {direction: higher|lower}`: among the eligible members on the same template in the cycle whose value
    is defined, 100 × (n − 1 − r) / (n − 1) with r = the number of those members strictly better; n = 1 gives 100.

    `values` maps each eligible member to its value (None = undefined); the caller leaves out non-eligible members
    ("For a member who is not eligible, a rank indicator is undefined").
    """
    defined = {k: frac(v) for k, v in values.items() if v is not None}
    n = len(defined)
    out: dict[str, Fraction | None] = {k: None for k in values}
    for k, v in defined.items():
        if n == 1:
            out[k] = HUNDRED
            continue
        better = sum(1 for w in defined.values() if (w > v if direction == "higher" else w < v))
        out[k] = HUNDRED * (n - 1 - better) / (n - 1)
    return out


def score_indicator(scoring: Mapping, value) -> Fraction | None:
    """Contract: "Scoring rules, each giving 0–100" for one value; `rank` needs the peers, see `rank_scores`."""
    rule = scoring["rule"]
    direction = scoring.get("direction", "higher")
    if rule == "linear":
        return score_linear(value, scoring["floor"], scoring["target"])
    if rule == "threshold":
        return score_threshold(value, scoring["target"], direction)
    if rule == "bands":
        return score_bands(value, scoring["bands"], direction)
    if rule == "ratio":
        return score_ratio(value, scoring["target"])
    if rule == "rating":
        return score_rating(value, scoring["scale"])
    raise ValueError(f"rule {rule!r} cannot score one value alone")


def shown_score(exact: Fraction | None) -> Decimal | None:
    """Contract: "an indicator score is its exact value rounded to 2 places, never a rounding of a stored rounding"."""
    return None if exact is None else round_half_up(exact, 2)


# ------------------------------------------------------------------------------------------------ aggregation


def _weighted_mean(pairs: list[tuple[Fraction, Fraction]]) -> Fraction | None:
    total = sum((w for w, _ in pairs), ZERO)
    if not pairs or total == 0:
        return None
    return sum((w * s for w, s in pairs), ZERO) / total


def section_score(section: Mapping, scores: Mapping[str, Fraction | None]) -> Fraction | None:
    """Contract: "an undefined indicator is left out and the other weights of its section are rescaled" ... "Section score =
    Σ wᵢ·sᵢ / Σ wᵢ". None when no indicator of the section is defined."""
    pairs = []
    for ind in section["indicators"]:
        s = scores.get(f"{section['code']}.{ind['code']}")
        if s is not None:
            pairs.append((frac(ind["weight"]), s))
    return _weighted_mean(pairs)


def final_score(template: Mapping, scores: Mapping[str, Fraction | None]) -> Fraction | None:
    """Contract: "a section with no defined indicator is left out and the other section weights are rescaled" ... "final =
    Σ Wₖ·Sₖ / Σ Wₖ, computed exactly". Exact; None when every section is undefined."""
    pairs = []
    for section in template["sections"]:
        s = section_score(section, scores)
        if s is not None:
            pairs.append((frac(section["weight"]), s))
    return _weighted_mean(pairs)


def is_eligible(template: Mapping, tickets_handled: int) -> bool:
    """Contract: "`eligibility.min_tickets` compares with `tickets_handled` (tickets of every kind)"; "Members below
    `eligibility`" are not eligible, so eligible = tickets_handled ≥ min_tickets (no eligibility: everyone)."""
    minimum = (template.get("eligibility") or {}).get("min_tickets") or 0
    return tickets_handled >= minimum


def rank_members(finals: Mapping[str, Decimal | None]) -> dict[str, int]:
    """Contract: "Rank: the place of an eligible member among the eligible members on the same template in the cycle, by final
    score descending, ties ordered by `employee_no`". `finals` holds the eligible members' rounded finals; members
    with None take no place ("takes no place"). employee_no ties are ordered as plain strings."""
    ranked = sorted((k for k, v in finals.items() if v is not None), key=lambda k: (-finals[k], k))
    return {k: place for place, k in enumerate(ranked, start=1)}


def grade_for(grading: Mapping, final: Decimal | None, place: int | None, ranked: int) -> str | None:
    """Grade of an eligible member. "`thresholds` as above (first with final ≥ min)" read from the rounded final;
    "`rank {grades: [[50, excellent], [300, good], [null, needs_improvement]]}` by rank: places 1–50, 51–300, the
    rest"; `percentile`: place ≤ ceil(bound × ranked / 100), in order, null = the rest. No final: `not_rated`.
    None when no grade matches."""
    if final is None or place is None:
        return NOT_RATED
    method, grades = grading["method"], grading["grades"]
    if method == "thresholds":
        for bound, grade in sorted(grades, key=lambda g: frac(g[0]), reverse=True):
            if frac(final) >= frac(bound):
                return grade
        return None
    for bound, grade in grades:
        if bound is None:
            return grade
        limit = frac(bound) if method == "rank" else math.ceil(frac(bound) * ranked / 100)
        if place <= limit:
            return grade
    return None


@dataclass
class MemberInput:
    employee_no: str
    tickets_handled: int
    values: dict[str, object] = field(default_factory=dict)  # "<section>.<indicator>" -> metric value / rating


@dataclass
class MemberResult:
    employee_no: str
    eligible: bool
    scores: dict[str, Fraction | None]  # exact indicator scores
    shown_scores: dict[str, Decimal | None]  # what the export shows: exact score rounded once to 2 places
    section_scores: dict[str, Fraction | None]
    final_exact: Fraction | None
    final: Decimal | None  # rounded half-up to 2 places
    grade: str | None
    rank: int | None


def appraise(template: Mapping, members: Sequence[MemberInput]) -> dict[str, MemberResult]:
    """Score, rank and grade every member on one template in one cycle.

    "Members below `eligibility` get a score but grade `not_rated` and no rank, and take no place." "A member whose
    every section is undefined has an empty `final_score`, grade `not_rated`, an empty `rank`, and takes no place."
    "the grade and the rank are read from the rounded final score".
    """
    eligible = {m.employee_no: is_eligible(template, m.tickets_handled) for m in members}
    scores: dict[str, dict[str, Fraction | None]] = {m.employee_no: {} for m in members}
    for section in template["sections"]:
        for ind in section["indicators"]:
            key, scoring = f"{section['code']}.{ind['code']}", ind["scoring"]
            if scoring["rule"] == "rank":
                peers = {m.employee_no: m.values.get(key) for m in members if eligible[m.employee_no]}
                ranked = rank_scores(peers, scoring.get("direction", "higher"))
                for m in members:
                    scores[m.employee_no][key] = ranked.get(m.employee_no)
            else:
                for m in members:
                    scores[m.employee_no][key] = score_indicator(scoring, m.values.get(key))
    finals_exact = {k: final_score(template, s) for k, s in scores.items()}
    finals = {k: None if f is None else round_half_up(f, 2) for k, f in finals_exact.items()}
    places = rank_members({k: f for k, f in finals.items() if eligible[k]})
    results = {}
    for m in members:
        k = m.employee_no
        place = places.get(k)
        grade = grade_for(template["grading"], finals[k], place, len(places)) if eligible[k] else NOT_RATED
        results[k] = MemberResult(
            employee_no=k,
            eligible=eligible[k],
            scores=scores[k],
            shown_scores={key: shown_score(s) for key, s in scores[k].items()},
            section_scores={sec["code"]: section_score(sec, scores[k]) for sec in template["sections"]},
            final_exact=finals_exact[k],
            final=finals[k],
            grade=grade,
            rank=place,
        )
    return results


# ------------------------------------------------------------------------------------------------- commission


@dataclass
class Order:
    external_id: str
    category: str
    amount: object
    paid_at: datetime | None
    refunded_amount: object = 0
    refunded_at: datetime | None = None


@dataclass(frozen=True)
class Terms:
    """What an order was paid under: "the rate (high-value extra included), multiplier and cap factor"."""

    rate: Fraction
    multiplier: Fraction
    cap_factor: Fraction


@dataclass
class Payout:
    start: datetime
    end: datetime
    gross: Decimal
    multiplier: Fraction  # exact product of the modifiers
    commission: Decimal
    cap_factor: Fraction  # exact
    clawback: Decimal  # ≤ 0
    carried_balance: Decimal  # ≤ 0, the previous payout's negative total
    total: Decimal  # ≥ 0, what is paid
    balance_after: Decimal  # ≤ 0, carried to the next payout
    lines: dict[str, Decimal]  # commission line per order paid in the window
    clawback_lines: dict[str, Decimal]  # ≤ 0 per order clawed back
    terms: dict[str, Terms]  # terms of the orders paid in the window, for later clawbacks


def order_rate(plan: Mapping, order: Order) -> Fraction:
    """Contract: "(rate[category] or rates.default), plus net × extra_rate when amount ≥ min_amount": the order's rate."""
    rates = plan["rates"]
    rate = frac(rates.get(order.category, rates["default"]))
    high = plan.get("high_value")
    if high and frac(order.amount) >= frac(high["min_amount"]):
        rate += frac(high["extra_rate"])
    return rate


def order_net(order: Order, end: datetime) -> Fraction:
    """Contract: "net = amount − refunded_amount when refunded_at < end, else amount"."""
    amount = frac(order.amount)
    if order.refunded_at is not None and order.refunded_at < end:
        return amount - (frac(order.refunded_amount) or ZERO)
    return amount


def commission_line(plan: Mapping, order: Order, end: datetime) -> Decimal:
    """Contract: "A line per paid order: base = net × (rate[category] or rates.default), plus net × extra_rate when amount ≥
    min_amount; ... each line rounded half-up to 0.01"."""
    return round_half_up(order_net(order, end) * order_rate(plan, order), 2)


def metric_modifier(bands, value) -> Fraction:
    """Contract: "a metric modifier takes the multiplier of the first band, in descending min, that the metric meets
    (undefined metric, or no band met: 1)"."""
    v = frac(value)
    if v is None:
        return ONE
    for bound, mult in sorted(((frac(b), frac(m)) for b, m in bands), key=lambda p: p[0], reverse=True):
        if v >= bound:
            return mult
    return ONE


def plan_multiplier(plan: Mapping, metrics: Mapping[str, object], grade: str | None) -> Fraction:
    """Contract: "multiplier = product of the modifiers ... the grade modifier takes the member's grade in this cycle (a grade
    the map does not name, such as `not_rated`: 1)"."""
    result = ONE
    for name, spec in (plan.get("modifiers") or {}).items():
        if name == "grade":
            result *= frac(spec[grade]) if grade in spec else ONE
        else:
            result *= metric_modifier(spec, metrics.get(name))
    return result


def _seconds(delta: timedelta) -> Fraction:
    return Fraction(delta.days * 86400 + delta.seconds) + Fraction(delta.microseconds, 10**6)


def compute_payout(
    plan: Mapping,
    orders: Sequence[Order],
    start: datetime,
    end: datetime,
    metrics: Mapping[str, object] | None = None,
    grade: str | None = None,
    carried_balance=0,
    earlier_terms: Mapping[str, Terms] | None = None,
) -> Payout:
    """One member's payout for the window [start, end), steps 1–5 of the contract.

    3. "commission = min(round(gross × multiplier, 2), cap); the cap factor is commission / round(gross ×
       multiplier, 2) (1 when that is 0), kept exact, not rounded."
    4. "clawback = − Σ round(refunded_amount × rate × multiplier × cap factor, 2), with the rate (high-value extra
       included), multiplier and cap factor that the order was paid under, over the member's orders paid in an
       earlier cycle and refunded in this window with refunded_at − paid_at ≤ `clawback_days` × 24 hours."
    5. "total = commission + clawback + carried balance; a negative total pays 0 ... and carries forward".

    `earlier_terms` maps each order paid in an earlier cycle (under a payout) to its terms; `carried_balance` is the
    previous payout's `balance_after`. No `cap` in the plan: no cap. `clawback_days` comes from this cycle's plan.
    """
    metrics, earlier_terms = metrics or {}, earlier_terms or {}
    multiplier = plan_multiplier(plan, metrics, grade)
    paid = [o for o in orders if o.paid_at is not None and start <= o.paid_at < end]
    lines = {o.external_id: commission_line(plan, o, end) for o in paid}
    gross = sum((frac(v) for v in lines.values()), ZERO)
    uncapped = frac(round_half_up(gross * multiplier, 2))
    cap = frac(plan.get("cap"))
    commission = uncapped if cap is None else min(uncapped, cap)
    cap_factor = ONE if uncapped == 0 else commission / uncapped
    terms = {o.external_id: Terms(order_rate(plan, o), multiplier, cap_factor) for o in paid}

    window = 24 * 3600 * frac(plan["clawback_days"])  # seconds
    clawback_lines = {}
    for o in orders:
        t = earlier_terms.get(o.external_id)
        refunded = frac(o.refunded_amount) or ZERO
        if t is None or o.paid_at is None or o.paid_at >= start or o.refunded_at is None or not refunded:
            continue
        if start <= o.refunded_at < end and _seconds(o.refunded_at - o.paid_at) <= window:
            clawback_lines[o.external_id] = round_half_up(-refunded * t.rate * t.multiplier * t.cap_factor, 2)
    clawback = sum((frac(v) for v in clawback_lines.values()), ZERO)

    carried = frac(carried_balance)
    raw_total = commission + clawback + carried
    return Payout(
        start=start,
        end=end,
        gross=round_half_up(gross, 2),
        multiplier=multiplier,
        commission=round_half_up(commission, 2),
        cap_factor=cap_factor,
        clawback=round_half_up(clawback, 2),
        carried_balance=round_half_up(carried, 2),
        total=round_half_up(max(raw_total, ZERO), 2),
        balance_after=round_half_up(min(raw_total, ZERO), 2),
        lines=lines,
        clawback_lines=clawback_lines,
        terms=terms,
    )


@dataclass
class CycleInput:
    start: datetime
    end: datetime
    plan: Mapping
    metrics: dict[str, object] = field(default_factory=dict)  # metric code -> value (None = undefined)
    grade: str | None = None  # the member's grade in this cycle


def payout_series(orders: Sequence[Order], cycles: Sequence[CycleInput]) -> list[Payout]:
    """One member's payouts over consecutive cycles, in order: each payout carries the previous one's negative
    balance ("carries forward to the member's next payout, whose `carried_balance` column shows it") and each order
    remembers the terms of the payout it was paid under, for clawbacks in later cycles."""
    payouts: list[Payout] = []
    terms: dict[str, Terms] = {}
    balance = Decimal("0.00")
    for cycle in cycles:
        if payouts and cycle.start < payouts[-1].end:
            raise ValueError("cycles must be in order and not overlap")
        payout = compute_payout(
            cycle.plan, orders, cycle.start, cycle.end, cycle.metrics, cycle.grade, balance, dict(terms)
        )
        payouts.append(payout)
        terms.update(payout.terms)
        balance = payout.balance_after
    return payouts
