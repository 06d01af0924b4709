"""Pure scoring arithmetic: rules, aggregation, ranking and grading.

Everything here works on ``Fraction`` so that the final score is exact until the one
half-up rounding to two places (contract: "computed exactly ... rounded half-up").
No database access: the close feeds these functions plain values.
"""

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
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


def normalise(rule: str, params: dict, value) -> Fraction | None:
    """Score one raw value 0–100 by a rule; ``None`` (undefined) stays ``None``.

    ``rank`` is not scored here: it needs the peers (see ``rank_scores``).
    """
    return scorer(rule, params)(value)


ZERO, ONE = Fraction(0), Fraction(1)


def scorer(rule: str, params: dict):
    """The rule as a function of the raw value, its parameters read once.

    The close scores thousands of members by the same indicator: parsing the parameters
    once per indicator, not once per member, is most of the cost of scoring.
    """
    if rule == "linear":
        floor, target = frac(params["floor"]), frac(params["target"])
        low, high = min(floor, target), max(floor, target)  # lower is better when target < floor
        scale = HUNDRED / (target - floor)

        def linear(v):
            v = frac(v)
            if v <= low:
                return ZERO if floor == low else HUNDRED
            if v >= high:
                return HUNDRED if target == high else ZERO
            return (v - floor) * scale

        return _defined(linear)
    if rule == "threshold":
        target = frac(params["target"])
        if params.get("direction", "higher") == "lower":
            return _defined(lambda v: HUNDRED if frac(v) <= target else ZERO)
        return _defined(lambda v: HUNDRED if frac(v) >= target else ZERO)
    if rule == "bands":
        bands = [(frac(b), frac(s)) for b, s in params["bands"]]
        if params.get("direction", "higher") == "lower":
            upper = sorted(bands, key=lambda b: b[0])

            def bands_lower(v):
                v = frac(v)
                return next((score for bound, score in upper if v <= bound), ZERO)

            return _defined(bands_lower)
        lower = sorted(bands, key=lambda b: b[0], reverse=True)

        def bands_higher(v):
            v = frac(v)
            return next((score for minimum, score in lower if v >= minimum), ZERO)

        return _defined(bands_higher)
    if rule == "ratio":
        target = frac(params["target"])
        return _defined(lambda v: HUNDRED * min(frac(v) / target, ONE))
    if rule == "rating":
        scale = frac(params["scale"])
        return _defined(lambda v: HUNDRED * frac(v) / scale)
    raise ValueError(f"rule {rule!r} is not scored from a single value")


def _defined(fn):
    """Undefined in, undefined out."""
    return lambda value: None if value is None else fn(value)


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
    """Weighted sums with undefined indicators and sections left out and weights rescaled.

    Each defined indicator's share of the final score depends only on the weights and on
    which indicators are defined, so it is worked out once per such layout (``_shares``);
    per member that leaves one product per indicator: contribution = share × score. The
    final score is the sum of the contributions, a section's score its contributions over
    its share. Weights may be ``int`` (whole percentages) or ``Fraction``; all is exact.
    """
    layout = tuple(
        (section.weight, tuple(None if i.score is None else i.weight for i in section.indicators))
        for section in sections
    )
    shares = _shares(layout)
    final = Fraction(0) if shares else None
    for section, (section_share, indicator_shares) in zip(sections, shares or [(None, ())] * len(sections)):
        section.share, section.score = section_share, None
        if section_share is None:
            continue
        total = Fraction(0)
        for ind, share in zip(section.indicators, indicator_shares):
            if share is not None:
                ind.share = share
                ind.contribution = share * ind.score
                total += ind.contribution
        section.score = total / section_share
        final += total
    if final is None:
        return Aggregate(sections=sections)
    return Aggregate(sections=sections, final=final, rounded=round_half_up(final, 2))


@lru_cache(maxsize=4096)
def _shares(layout) -> list | None:
    """Per section (its share, each indicator's share or None) for one layout of weights.

    ``layout``: per section (weight, per indicator its weight or None when undefined).
    None when nothing is defined.
    """
    inner = [sum(w for w in weights if w is not None) for _weight, weights in layout]
    total = sum(weight for (weight, _weights), n in zip(layout, inner) if n)
    if not total:
        return None
    out = []
    for (weight, weights), n in zip(layout, inner):
        if not n:
            out.append((None, (None,) * len(weights)))
            continue
        share = Fraction(weight, total)
        out.append((share, tuple(None if w is None else share * w / n for w in weights)))
    return out


def exact_weight(weight) -> int | Fraction:
    """A stored weight as an int when whole (cheaper arithmetic), else an exact Fraction."""
    whole = int(weight)
    return whole if whole == weight else frac(weight)


def order_for_rank(members: list[tuple]) -> list:
    """members: (key, employee_no, rounded_final). Returns keys by score desc, employee_no asc."""
    return [m[0] for m in sorted(members, key=lambda m: (-m[2], m[1]))]


def grade_for(method: str, grades: list, *, score=None, place: int | None = None, ranked: int = 0) -> str:
    """Read a grade from the rounded final score (thresholds) or the place (rank, percentile)."""
    return grader(method, grades)(score=score, place=place, ranked=ranked)


def grader(method: str, grades: list):
    """``grade_for`` with the grade table read once, for grading a whole cycle."""
    if method == "thresholds":
        table = sorted(((frac(minimum), grade) for minimum, grade in grades), key=lambda g: g[0], reverse=True)

        def by_score(*, score, place=None, ranked=0):
            score = frac(score)
            return next((grade for minimum, grade in table if score >= minimum), "")

        return by_score
    bounds = [(None if bound is None else frac(bound), grade) for bound, grade in grades]

    def by_place(*, score=None, place, ranked):
        for bound, grade in bounds:
            if bound is None:
                return grade
            if method == "rank" and place <= int(bound):
                return grade
            if method == "percentile" and place <= ceil(bound * ranked / 100):
                return grade
        return ""

    return by_place


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
