"""Pure scoring arithmetic: aggregation, ranking and grading (the rules are in ``rules``).

Everything here works on ``Fraction`` so that the final score is exact until the one
half-up rounding to two places (contract: "computed exactly ... rounded half-up").
No database access: the close feeds these functions plain values.
"""

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import ceil

from performance.common.money import round_half_up
from performance.common.numbers import frac


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
