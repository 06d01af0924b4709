"""Pure scoring arithmetic: rules, aggregation, ranking and grading.

Everything here works on ``Fraction`` so that the final score is exact until the one
half-up rounding to two places (contract: "computed exactly ... rounded half-up").
No database access: the close feeds these functions plain values.
"""

from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil

from django.utils.translation import gettext as _

from .money import round_half_up

HUNDRED = Fraction(100)
RULES = ("linear", "threshold", "bands", "ratio", "rank", "rating")


def frac(value) -> Fraction:
    """Exact fraction of a YAML/JSON number: 0.85 means 17/20, not the binary float."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(str(value))


def clamp(value: Fraction, low: Fraction, high: Fraction) -> Fraction:
    return max(low, min(high, value))


def normalise(rule: str, params: dict, value) -> Fraction | None:
    """Score one raw value 0–100 by a rule; ``None`` (undefined) stays ``None``.

    ``rank`` is not scored here: it needs the peers (see ``rank_scores``).
    """
    if value is None:
        return None
    v = frac(value)
    if rule == "linear":
        floor, target = frac(params["floor"]), frac(params["target"])
        return HUNDRED * clamp((v - floor) / (target - floor), Fraction(0), Fraction(1))
    if rule == "threshold":
        target = frac(params["target"])
        if params.get("direction", "higher") == "lower":
            return HUNDRED if v <= target else Fraction(0)
        return HUNDRED if v >= target else Fraction(0)
    if rule == "bands":
        bands = [(frac(b), frac(s)) for b, s in params["bands"]]
        if params.get("direction", "higher") == "lower":
            for bound, score in sorted(bands, key=lambda b: b[0]):
                if v <= bound:
                    return score
        else:
            for minimum, score in sorted(bands, key=lambda b: b[0], reverse=True):
                if v >= minimum:
                    return score
        return Fraction(0)
    if rule == "ratio":
        return HUNDRED * min(v / frac(params["target"]), Fraction(1))
    if rule == "rating":
        return HUNDRED * v / frac(params["scale"])
    raise ValueError(f"rule {rule!r} is not scored from a single value")


def rank_scores(values: dict, direction: str = "higher") -> dict:
    """100 × (n − 1 − r) / (n − 1), r = peers strictly better; defined values only."""
    defined = {k: frac(v) for k, v in values.items() if v is not None}
    n = len(defined)
    ordered = sorted(defined.values())
    from bisect import bisect_left, bisect_right

    result = {}
    for key, v in defined.items():
        if direction == "lower":
            better = bisect_left(ordered, v)
        else:
            better = n - bisect_right(ordered, v)
        result[key] = HUNDRED if n == 1 else HUNDRED * (n - 1 - better) / (n - 1)
    return result


@dataclass
class IndicatorScore:
    code: str
    weight: Fraction
    score: Fraction | None
    share: Fraction | None = None  # effective weight in the final score, 0–1
    contribution: Fraction | None = None


@dataclass
class SectionScore:
    code: str
    weight: Fraction
    indicators: list[IndicatorScore]
    score: Fraction | None = None
    share: Fraction | None = None


@dataclass
class Aggregate:
    sections: list[SectionScore]
    final: Fraction | None = None
    rounded: object = None  # Decimal, 2 places, or None
    extra: dict = field(default_factory=dict)


def aggregate(sections: list[SectionScore]) -> Aggregate:
    """Weighted sums with undefined indicators and sections left out and weights rescaled."""
    for section in sections:
        defined = [i for i in section.indicators if i.score is not None]
        total = sum((i.weight for i in defined), Fraction(0))
        section.score = sum((i.weight * i.score for i in defined), Fraction(0)) / total if total else None
    scored = [s for s in sections if s.score is not None]
    total_w = sum((s.weight for s in scored), Fraction(0))
    if not total_w:
        return Aggregate(sections=sections)
    final = Fraction(0)
    for section in scored:
        section.share = section.weight / total_w
        final += section.share * section.score
        inner = sum((i.weight for i in section.indicators if i.score is not None), Fraction(0))
        for ind in section.indicators:
            if ind.score is not None:
                ind.share = section.share * ind.weight / inner
                ind.contribution = ind.share * ind.score
    return Aggregate(sections=sections, final=final, rounded=round_half_up(final, 2))


def order_for_rank(members: list[tuple]) -> list:
    """members: (key, employee_no, rounded_final). Returns keys by score desc, employee_no asc."""
    return [m[0] for m in sorted(members, key=lambda m: (-m[2], m[1]))]


def grade_for(method: str, grades: list, *, score=None, place: int | None = None, ranked: int = 0) -> str:
    """Read a grade from the rounded final score (thresholds) or the place (rank, percentile)."""
    if method == "thresholds":
        for minimum, grade in sorted(grades, key=lambda g: frac(g[0]), reverse=True):
            if frac(score) >= frac(minimum):
                return grade
        return ""
    for bound, grade in grades:
        if bound is None:
            return grade
        if method == "rank" and place <= int(bound):
            return grade
        if method == "percentile" and place <= ceil(frac(bound) * ranked / 100):
            return grade
    return ""


def describe_rule(rule: str, params: dict) -> str:
    """The rule in words, for the staff member's breakdown."""

    def pct(x):
        x = frac(x)
        return f"{round_half_up(x * 100, 2).normalize():f}%" if abs(x) <= 1 else f"{round_half_up(x, 2).normalize():f}"

    if rule == "linear":
        return _("linear from %(floor)s (0) to %(target)s (100)") % {
            "floor": pct(params["floor"]), "target": pct(params["target"])}
    if rule == "threshold":
        if params.get("direction", "higher") == "lower":
            return _("100 if at most %(target)s, else 0") % {"target": pct(params["target"])}
        return _("100 if at least %(target)s, else 0") % {"target": pct(params["target"])}
    if rule == "bands":
        lower = params.get("direction", "higher") == "lower"
        parts = [
            (_("≤ %(b)s → %(s)s") if lower else _("≥ %(b)s → %(s)s")) % {"b": pct(b), "s": s}
            for b, s in sorted(params["bands"], key=lambda b: frac(b[0]), reverse=not lower)
        ]
        return _("bands: %(bands)s") % {"bands": "; ".join(parts)}
    if rule == "ratio":
        return _("100 × value / %(target)s, at most 100") % {"target": pct(params["target"])}
    if rule == "rank":
        if params.get("direction", "higher") == "lower":
            return _("rank among peers, lowest value best")
        return _("rank among peers, highest value best")
    if rule == "rating":
        return _("100 × rating / %(scale)s") % {"scale": params["scale"]}
    return rule
