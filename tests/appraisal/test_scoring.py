"""Scoring rules, aggregation, ranking and grading, with hand-computed expectations."""

from decimal import Decimal
from fractions import Fraction

import pytest

from performance.appraisal import scoring
from performance.appraisal.rules import RULES
from performance.appraisal.rules import describe as describe_rule
from performance.appraisal.rules import score as normalise
from performance.appraisal.scoring import IndicatorScore, SectionScore, aggregate, grade_for
from performance.common.money import round_half_up


@pytest.mark.parametrize(
    ("params", "value", "expected"),
    [
        ({"floor": 0.5, "target": 0.85}, "0.8", Fraction(600, 7)),  # 100 × 0.3 / 0.35
        ({"floor": 0.5, "target": 0.85}, "0.4", Fraction(0)),  # clamped below
        ({"floor": 0.5, "target": 0.85}, "0.95", Fraction(100)),  # clamped above
        ({"floor": 330, "target": 210}, 270, Fraction(50)),  # lower is better: handle time
        ({"floor": 330, "target": 210}, 200, Fraction(100)),
        ({"floor": 330, "target": 210}, 400, Fraction(0)),
    ],
)
def test_linear_rule_including_lower_is_better(params, value, expected):
    assert normalise("linear", params, value) == expected


@pytest.mark.parametrize(
    ("direction", "value", "expected"),
    [("higher", "0.85", 100), ("higher", "0.8499", 0), ("lower", "0.05", 100), ("lower", "0.0501", 0)],
)
def test_threshold_rule_both_directions(direction, value, expected):
    assert (
        normalise("threshold", {"target": 0.85 if direction == "higher" else 0.05, "direction": direction}, value)
        == expected
    )


def test_bands_higher_take_the_first_band_in_descending_min_that_the_value_meets():
    bands = {"bands": [[0.8, 80], [0.9, 100], [0.0, 40]]}  # order as written does not matter
    assert normalise("bands", bands, "0.95") == 100
    assert normalise("bands", bands, "0.9") == 100
    assert normalise("bands", bands, "0.85") == 80
    assert normalise("bands", bands, "0.1") == 40
    assert normalise("bands", {"bands": [[0.5, 100]]}, "0.4") == 0  # no band matches


def test_bands_lower_take_the_first_band_in_ascending_bound_with_value_at_most_bound():
    bands = {"bands": [[240, 100], [300, 70], [360, 40]], "direction": "lower"}
    assert normalise("bands", bands, 200) == 100
    assert normalise("bands", bands, 240) == 100
    assert normalise("bands", bands, 241) == 70
    assert normalise("bands", bands, 360) == 40
    assert normalise("bands", bands, 361) == 0


def test_ratio_and_rating_rules():
    assert normalise("ratio", {"target": 3000}, 1500) == 50
    assert normalise("ratio", {"target": 3000}, 4500) == 100
    assert normalise("rating", {"scale": 5}, 4) == 80
    assert normalise("rating", {"scale": 5}, Decimal("3.5")) == 70


def test_undefined_value_stays_undefined():
    assert normalise("linear", {"floor": 0, "target": 1}, None) is None


def test_rank_counts_strictly_better_peers_so_ties_share_a_score():
    scores = RULES["rank"].peer_scores({"a": 10, "b": 8, "c": 8, "d": 5, "e": None}, {})
    # n = 4 defined; a: r=0 → 100; b, c: r=1 → 100×2/3; d: r=3 → 0; e left out
    assert scores == {"a": 100, "b": Fraction(200, 3), "c": Fraction(200, 3), "d": 0}


def test_rank_lower_is_better_and_a_single_member_gets_100():
    assert RULES["rank"].peer_scores({"a": 10, "b": 20}, {"direction": "lower"}) == {"a": 100, "b": 0}
    assert RULES["rank"].peer_scores({"only": 3}, {}) == {"only": 100}


def test_aggregate_rescales_weights_of_undefined_indicators_and_sections():
    kpi = SectionScore(
        "kpi",
        Fraction(80),
        [
            IndicatorScore("frt", Fraction(50), Fraction(600, 7)),
            IndicatorScore("csat", Fraction(50), None),  # undefined: frt carries the section
            IndicatorScore("qa", Fraction(0) + 20, Fraction(40)),
        ],
    )
    kci = SectionScore("kci", Fraction(20), [IndicatorScore("attitude", Fraction(100), None)])  # whole section out
    result = aggregate([kpi, kci])
    # KPI = (50 × 600/7 + 20 × 40) / 70; KCI left out so final = KPI
    expected = (Fraction(50) * Fraction(600, 7) + 20 * 40) / 70
    assert result.final == expected
    assert result.rounded == Decimal("72.65")
    assert sum(i.contribution for i in kpi.indicators if i.contribution is not None) == expected


def test_final_score_is_exact_until_one_half_up_rounding():
    # 0.8 × 62.8571428… + 0.2 × 80 = 66.2857… → 66.29
    kpi = SectionScore(
        "kpi",
        Fraction(80),
        [IndicatorScore("frt", Fraction(50), Fraction(600, 7)), IndicatorScore("csat", Fraction(50), Fraction(40))],
    )
    kci = SectionScore("kci", Fraction(20), [IndicatorScore("attitude", Fraction(100), Fraction(80))])
    assert aggregate([kpi, kci]).rounded == Decimal("66.29")
    # a value exactly on the half cent rounds up, not to even
    half = SectionScore("kpi", Fraction(100), [IndicatorScore("x", Fraction(100), Fraction(8125, 1000))])
    assert aggregate([half]).rounded == Decimal("8.13")
    assert round_half_up(Fraction(2125, 1000)) == Decimal("2.13")


def test_no_defined_section_gives_no_score():
    assert aggregate([SectionScore("kpi", Fraction(100), [IndicatorScore("x", Fraction(100), None)])]).final is None


def test_rank_order_breaks_ties_by_employee_no():
    members = [("x", "E002", Decimal("80.00")), ("y", "E001", Decimal("80.00")), ("z", "E003", Decimal("90.00"))]
    assert scoring.order_for_rank(members) == ["z", "y", "x"]


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (Decimal("90.00"), "excellent"),
        (Decimal("89.99"), "good"),
        (Decimal("75.00"), "good"),
        (Decimal("0.00"), "needs_improvement"),
    ],
)
def test_threshold_grading_reads_the_rounded_score(score, grade):
    grades = [[90, "excellent"], [75, "good"], [0, "needs_improvement"]]
    assert grade_for("thresholds", grades, score=score) == grade


@pytest.mark.parametrize(
    ("place", "grade"), [(1, "excellent"), (50, "excellent"), (51, "good"), (300, "good"), (301, "needs_improvement")]
)
def test_rank_grading_by_place(place, grade):
    grades = [[50, "excellent"], [300, "good"], [None, "needs_improvement"]]
    assert grade_for("rank", grades, place=place) == grade


def test_percentile_grading_forced_distribution():
    grades = [[10, "excellent"], [30, "good"], [None, "needs_improvement"]]
    # 20 ranked: top ceil(2) excellent, up to ceil(6) good
    assert [grade_for("percentile", grades, place=p, ranked=20) for p in (1, 2, 3, 6, 7)] == [
        "excellent",
        "excellent",
        "good",
        "good",
        "needs_improvement",
    ]


def test_rules_are_described_in_words_for_staff():
    assert describe_rule("linear", {"floor": 0.5, "target": 0.85}) == "linear from 50% (0) to 85% (100)"
