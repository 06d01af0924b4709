"""Pin the reference model (tests/reference/contract.py) to hand-computed examples from the contract text.

No database and no Django. tests/conftest.py imports the product, so either skip it:
    python -m pytest -p no:django --confcutdir=tests/reference tests/reference
or let pytest-django set up settings (no database is touched): python -m pytest tests/reference
"""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction as F

import pytest

from tests.reference.contract import (
    NOT_RATED,
    CycleInput,
    MemberInput,
    Order,
    appraise,
    commission_line,
    compute_payout,
    final_score,
    grade_for,
    is_eligible,
    metric_modifier,
    payout_series,
    plan_multiplier,
    rank_members,
    rank_scores,
    round_half_up,
    score_bands,
    score_indicator,
    score_linear,
    score_rating,
    score_ratio,
    score_threshold,
    section_score,
    shown_score,
)

TZ = timezone(timedelta(hours=8))  # Asia/Shanghai


def at(month, day, hour=0, minute=0, second=0):
    return datetime(2026, month, day, hour, minute, second, tzinfo=TZ)


TEMPLATE = {  # the contract's example template
    "code": "cs-agent",
    "role": "agent",
    "sections": [
        {
            "code": "kpi",
            "weight": 80,
            "indicators": [
                {"code": "frt", "weight": 50, "scoring": {"rule": "linear", "floor": 0.5, "target": 0.85}},
                {
                    "code": "csat",
                    "weight": 50,
                    "scoring": {"rule": "bands", "bands": [[0.9, 100], [0.8, 80], [0.0, 40]]},
                },
            ],
        },
        {
            "code": "kci",
            "weight": 20,
            "indicators": [{"code": "attitude", "weight": 100, "scoring": {"rule": "rating", "scale": 5}}],
        },
    ],
    "grading": {"method": "thresholds", "grades": [[90, "excellent"], [75, "good"], [0, "needs_improvement"]]},
    "eligibility": {"min_tickets": 5},
}

PLAN = {  # the contract's example plan
    "code": "cloud-sales",
    "rates": {"default": 0.05, "cloud_server": 0.10, "support_plan": 0.20},
    "high_value": {"min_amount": 50000, "extra_rate": 0.02},
    "modifiers": {
        "satisfaction_rate": [[0.90, 1.10], [0.80, 1.00], [0.0, 0.80]],
        "retention_rate": [[0.85, 1.10], [0.60, 1.00], [0.0, 0.90]],
        "grade": {"excellent": 1.20, "good": 1.00, "needs_improvement": 0.80},
    },
    "clawback_days": 90,
    "cap": 30000,
}

MONTHS = [(at(m, 1), at(m + 1, 1)) for m in range(1, 6)]  # January .. May 2026


# --------------------------------------------------------------------------------------------- half-up rounding


@pytest.mark.parametrize(
    ("exact", "shown"),
    [
        (F("21.0749620852"), "21.07"),  # stored to 4 places (21.0750) and rounded again would give 21.08
        (F("92.1050343448"), "92.11"),
        (F("12.6050420168"), "12.61"),
        (F(1500, 119), "12.61"),
        (F("2.675"), "2.68"),
        (F("0.125"), "0.13"),
        (F("-2.675"), "-2.68"),  # half away from zero
        (F("-0.004"), "0.00"),  # never -0.00
        (F(0), "0.00"),
    ],
)
def test_round_half_up(exact, shown):
    # given an exact value / when rounded once half-up to 2 places / then the exact string
    result = round_half_up(exact, 2)
    assert str(result) == shown
    assert not (result == 0 and result.is_signed())


def test_indicator_score_is_rounded_once_from_the_exact_value():
    # given a linear score of exactly 51.24496 (stored to 4 places it would be 51.2450)
    exact = score_linear(F("0.5124496"), 0, 1)
    # then people read 51.24, not 51.25
    assert exact == F("51.24496")
    assert shown_score(exact) == Decimal("51.24")
    assert shown_score(None) is None


# ------------------------------------------------------------------------------------------------ scoring rules


@pytest.mark.parametrize(
    ("value", "score"),
    [("0.49", 0), ("0.5", 0), ("0.51", F(20, 7)), ("0.6", F(200, 7)), ("0.675", 50), ("0.85", 100), ("0.86", 100)],
)
def test_linear_floor_below_target(value, score):
    # given floor 0.5, target 0.85 / then 100 x clamp((v - floor) / (target - floor), 0, 1), e.g. 0.51 -> 1 / 0.35
    assert score_linear(F(value), 0.5, 0.85) == score


@pytest.mark.parametrize(("value", "score"), [(331, 0), (330, 0), (300, 25), (270, 50), (210, 100), (209, 100)])
def test_linear_target_below_floor_means_lower_is_better(value, score):
    # given average handle time: floor 330 s, target 210 s
    assert score_linear(value, 330, 210) == score


@pytest.mark.parametrize(
    ("value", "direction", "score"),
    [
        ("0.8", "higher", 100),
        ("0.8001", "higher", 100),
        ("0.7999", "higher", 0),
        ("180", "lower", 100),
        ("179.9", "lower", 100),
        ("180.5", "lower", 0),  # decimals compare exactly
    ],
)
def test_threshold(value, direction, score):
    target = 0.8 if direction == "higher" else 180
    assert score_threshold(F(value), target, direction) == score


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 0, 1], [1, 2, 0]])
@pytest.mark.parametrize(
    ("value", "score"),
    [("0.95", 100), ("0.9", 100), ("0.8999", 80), ("0.8", 80), ("0.7999", 40), ("0", 40), ("-0.01", 0)],
)
def test_bands_higher_in_any_order(order, value, score):
    # given the contract's csat bands, listed in any order
    bands = [[0.9, 100], [0.8, 80], [0.0, 40]]
    # then the first band in descending min with v >= min; none: 0
    assert score_bands(F(value), [bands[i] for i in order]) == score
    assert score_bands(F(value), [bands[i] for i in order], "higher") == score


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 0, 2]])
@pytest.mark.parametrize(
    ("value", "score"),
    [("0", 100), ("210", 100), ("210.01", 60), ("330", 60), ("330.5", 20), ("600", 20), ("600.5", 0)],
)
def test_bands_lower_in_any_order(order, value, score):
    # given bounds 210 -> 100, 330 -> 60, 600 -> 20 (lower is better)
    bands = [[210, 100], [330, 60], [600, 20]]
    # then the first band in ascending bound with v <= bound; none: 0
    assert score_bands(F(value), [bands[i] for i in order], "lower") == score


@pytest.mark.parametrize(("value", "score"), [("-0.2", 0), ("0", 0), ("0.4", 50), ("0.8", 100), ("1.2", 100)])
def test_ratio_stays_within_0_and_100(value, score):
    assert score_ratio(F(value), 0.8) == score


def test_rating():
    assert score_rating(4, 5) == 80
    assert score_rating(5, 5) == 100
    assert score_rating(F("3.5"), 5) == 70


@pytest.mark.parametrize(
    "scoring",
    [
        {"rule": "linear", "floor": 0.5, "target": 0.85},
        {"rule": "threshold", "target": 1},
        {"rule": "bands", "bands": [[0, 40]]},
        {"rule": "ratio", "target": 1},
        {"rule": "rating", "scale": 5},
    ],
)
def test_undefined_value_scores_undefined(scoring):
    assert score_indicator(scoring, None) is None


def test_rank_ties_count_only_members_strictly_better():
    # given four members, two sharing the best value and one undefined
    scores = rank_scores({"A": 10, "B": 10, "C": 5, "D": None})
    # then n = 3, r = members strictly better: A and B have r = 0, C has r = 2
    assert scores == {"A": 100, "B": 100, "C": 0, "D": None}
    # given a tie in the middle: r(B) = r(C) = 1, n = 4 -> 100 x 2 / 3
    assert rank_scores({"A": 10, "B": 7, "C": 7, "D": 1}) == {"A": 100, "B": F(200, 3), "C": F(200, 3), "D": 0}


def test_rank_lower_and_single_member():
    assert rank_scores({"A": 100, "B": 200, "C": 300}, "lower") == {"A": 100, "B": 50, "C": 0}
    assert rank_scores({"A": 7, "B": None}) == {"A": 100, "B": None}


# -------------------------------------------------------------------------------------------------- aggregation


def test_aggregation_with_every_indicator_defined():
    # given frt 50, csat 80, attitude 80
    scores = {"kpi.frt": F(50), "kpi.csat": F(80), "kci.attitude": F(80)}
    # then kpi = (50x50 + 50x80) / 100 = 65, final = (80x65 + 20x80) / 100 = 68
    assert section_score(TEMPLATE["sections"][0], scores) == 65
    assert final_score(TEMPLATE, scores) == 68


def test_undefined_indicator_rescales_its_section():
    # given csat undefined: kpi = frt alone = 50; final = (80x50 + 20x80) / 100 = 56
    assert final_score(TEMPLATE, {"kpi.frt": F(50), "kpi.csat": None, "kci.attitude": F(80)}) == 56


def test_undefined_section_rescales_the_sections():
    # given the whole kpi section undefined: final = kci alone
    assert final_score(TEMPLATE, {"kci.attitude": F(60)}) == 60
    # given every section undefined: no final
    assert final_score(TEMPLATE, {"kpi.frt": None}) is None


def test_final_is_exact_then_rounded_half_up():
    # given frt 0.6 -> 200/7, csat 0.85 -> 80, attitude 3 -> 60
    result = appraise(TEMPLATE, [MemberInput("E1", 10, {"kpi.frt": "0.6", "kpi.csat": "0.85", "kci.attitude": 3})])
    # then kpi = 380/7, final = (80 x 380/7 + 20 x 60) / 100 = 388/7 = 55.428571...
    member = result["E1"]
    assert member.section_scores == {"kpi": F(380, 7), "kci": 60}
    assert member.final_exact == F(388, 7)
    assert member.final == Decimal("55.43")
    assert member.shown_scores == {
        "kpi.frt": Decimal("28.57"),
        "kpi.csat": Decimal("80.00"),
        "kci.attitude": Decimal("60.00"),
    }


# ----------------------------------------------------------------------------------- eligibility, rank, grades


def test_eligibility_compares_min_tickets_with_tickets_handled():
    assert is_eligible(TEMPLATE, 5) is True
    assert is_eligible(TEMPLATE, 4) is False
    assert is_eligible({"sections": []}, 0) is True


def test_appraise_ranks_eligible_members_and_grades_from_the_rounded_final():
    # given
    perfect = {"kpi.frt": "0.85", "kpi.csat": "0.9", "kci.attitude": 5}  # 100
    middling = {"kpi.frt": "0.675", "kpi.csat": "0.85", "kci.attitude": 4}  # 68
    nearly_good = {"kpi.frt": "0.70120625", "kpi.csat": "0.85", "kci.attitude": 5}  # exactly 74.995
    members = [
        MemberInput("E002", 5, middling),  # exactly min_tickets: eligible
        MemberInput("E001", 10, perfect),
        MemberInput("E003", 4, perfect),  # below min_tickets
        MemberInput("E004", 20, {}),  # every section undefined
        MemberInput("E000", 6, middling),  # ties E002, goes first by employee_no
        MemberInput("E005", 9, nearly_good),
    ]
    # when
    result = appraise(TEMPLATE, members)
    # then
    summary = {k: (r.final, r.grade, r.rank, r.eligible) for k, r in result.items()}
    assert summary == {
        "E001": (Decimal("100.00"), "excellent", 1, True),
        "E005": (Decimal("75.00"), "good", 2, True),  # 74.995 rounds to 75.00, graded good
        "E000": (Decimal("68.00"), "needs_improvement", 3, True),
        "E002": (Decimal("68.00"), "needs_improvement", 4, True),
        "E003": (Decimal("100.00"), NOT_RATED, None, False),
        "E004": (None, NOT_RATED, None, True),
    }
    assert result["E005"].final_exact == F("74.995")


def test_rank_indicator_is_undefined_for_non_eligible_members():
    # given a template scored only by rank, and a non-eligible member with the best value
    template = {
        "sections": [
            {
                "code": "kpi",
                "weight": 100,
                "indicators": [{"code": "sales", "weight": 100, "scoring": {"rule": "rank"}}],
            }
        ],
        "grading": {"method": "rank", "grades": [[1, "excellent"], [None, "good"]]},
        "eligibility": {"min_tickets": 5},
    }
    members = [
        MemberInput("A", 5, {"kpi.sales": 300}),
        MemberInput("B", 9, {"kpi.sales": 100}),
        MemberInput("C", 1, {"kpi.sales": 1000}),
        MemberInput("D", 9, {}),
    ]
    # when
    result = appraise(template, members)
    # then ranks are among A and B only (n = 2)
    assert {k: r.scores["kpi.sales"] for k, r in result.items()} == {"A": 100, "B": 0, "C": None, "D": None}
    assert {k: (r.final, r.grade, r.rank) for k, r in result.items()} == {
        "A": (Decimal("100.00"), "excellent", 1),
        "B": (Decimal("0.00"), "good", 2),
        "C": (None, NOT_RATED, None),
        "D": (None, NOT_RATED, None),
    }


def test_rank_members_by_rounded_final_then_employee_no():
    finals = {"E3": Decimal("80.00"), "E1": Decimal("80.00"), "E2": Decimal("90.10"), "E4": None}
    assert rank_members(finals) == {"E2": 1, "E1": 2, "E3": 3}


@pytest.mark.parametrize(
    ("final", "grade"),
    [
        ("90.00", "excellent"),
        ("89.99", "good"),
        ("75.00", "good"),
        ("74.99", "needs_improvement"),
        ("0.00", "needs_improvement"),
    ],
)
def test_threshold_grading_in_any_order(final, grade):
    grading = {"method": "thresholds", "grades": [[0, "needs_improvement"], [90, "excellent"], [75, "good"]]}
    assert grade_for(grading, Decimal(final), 1, 1) == grade


@pytest.mark.parametrize(
    ("place", "grade"), [(1, "excellent"), (2, "excellent"), (3, "good"), (4, "needs_improvement")]
)
def test_rank_grading_by_place(place, grade):
    grading = {"method": "rank", "grades": [[2, "excellent"], [3, "good"], [None, "needs_improvement"]]}
    assert grade_for(grading, Decimal("50.00"), place, 10) == grade


@pytest.mark.parametrize(
    ("place", "grade"), [(1, "excellent"), (2, "good"), (4, "good"), (5, "needs_improvement"), (7, "needs_improvement")]
)
def test_percentile_grading(place, grade):
    # given 7 ranked members: excellent = places <= ceil(0.7) = 1, good = places <= ceil(3.5) = 4
    grading = {"method": "percentile", "grades": [[10, "excellent"], [50, "good"], [None, "needs_improvement"]]}
    assert grade_for(grading, Decimal("50.00"), place, 7) == grade


# --------------------------------------------------------------------------------------------------- commission


def test_order_lines_rates_high_value_and_half_up():
    jan_end = at(2, 1)
    # given orders of various categories: a rate by category or the default, each line rounded half-up
    assert commission_line(PLAN, Order("o1", "cloud_server", "10000.00", at(1, 5)), jan_end) == Decimal("1000.00")
    assert commission_line(PLAN, Order("o2", "cloud_server", "1.25", at(1, 5)), jan_end) == Decimal("0.13")  # 0.125
    assert commission_line(PLAN, Order("o3", "hosting", "200.00", at(1, 5)), jan_end) == Decimal("10.00")
    # high value: exactly at min_amount gets the extra rate, one cent below does not
    assert commission_line(PLAN, Order("o4", "hosting", "50000.00", at(1, 5)), jan_end) == Decimal("3500.00")
    assert commission_line(PLAN, Order("o5", "hosting", "49999.99", at(1, 5)), jan_end) == Decimal(
        "2500.00"
    )  # 2499.9995
    assert commission_line(PLAN, Order("o6", "cloud_server", "50000.00", at(1, 5)), jan_end) == Decimal("6000.00")


def test_net_subtracts_refunds_before_the_end():
    jan_end = at(2, 1)
    # refunded before end: net 600; refunded exactly at end: not yet, net 1000
    refunded = Order("o1", "cloud_server", "1000.00", at(1, 10), "400.00", at(1, 20))
    at_end = Order("o2", "cloud_server", "1000.00", at(1, 10), "400.00", jan_end)
    assert commission_line(PLAN, refunded, jan_end) == Decimal("60.00")
    assert commission_line(PLAN, at_end, jan_end) == Decimal("100.00")


@pytest.mark.parametrize(
    ("value", "multiplier"),
    [("0.95", "1.10"), ("0.90", "1.10"), ("0.8999", "1.00"), ("0.0", "0.80"), ("-0.1", "1"), (None, "1")],
)
def test_metric_modifier(value, multiplier):
    bands = [[0.80, 1.00], [0.0, 0.80], [0.90, 1.10]]  # any order: read in descending min
    assert metric_modifier(bands, None if value is None else F(value)) == F(multiplier)


def test_plan_multiplier_multiplies_metric_and_grade_modifiers():
    assert plan_multiplier(PLAN, {"satisfaction_rate": "0.9", "retention_rate": "0.85"}, "excellent") == F("1.452")
    assert plan_multiplier(PLAN, {"satisfaction_rate": "0.8999", "retention_rate": "0.5999"}, "good") == F("0.9")
    assert plan_multiplier(PLAN, {}, NOT_RATED) == 1
    assert plan_multiplier(PLAN, {"satisfaction_rate": None}, None) == 1


def test_payout_cap_not_hit():
    # given three January orders, gross 1000.00 + 0.13 + 10.00, and modifiers 1.10 x 1.10 x 1.00
    orders = [
        Order("o1", "cloud_server", "10000.00", at(1, 5)),
        Order("o2", "cloud_server", "1.25", at(1, 6)),
        Order("o3", "hosting", "200.00", at(1, 7)),
        Order("o4", "hosting", "999.00", at(2, 1)),  # paid at end: next cycle
    ]
    metrics = {"satisfaction_rate": "0.90", "retention_rate": "0.85"}
    # when
    payout = compute_payout(PLAN, orders, at(1, 1), at(2, 1), metrics, "good")
    # then 1010.13 x 1.21 = 1222.2573 -> 1222.26, cap factor 1
    assert payout.gross == Decimal("1010.13")
    assert payout.multiplier == F("1.21")
    assert payout.commission == Decimal("1222.26")
    assert payout.cap_factor == 1
    assert (payout.clawback, payout.carried_balance, payout.total) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("1222.26"),
    )


def test_cap_hit_and_clawback_at_the_capped_terms():
    # given a high-value January order (rate 0.10 + 0.02), multiplier 1.1 x 1.1 x 1.2 = 1.452, refunded in part in February
    order = Order("big", "cloud_server", "300000.00", at(1, 15), "100000.00", at(2, 10))
    metrics = {"satisfaction_rate": "0.95", "retention_rate": "0.9"}
    cycles = [CycleInput(*MONTHS[0], PLAN, metrics, "excellent"), CycleInput(*MONTHS[1], PLAN, {}, None)]
    # when
    january, february = payout_series([order], cycles)
    # then January: 36000.00 x 1.452 = 52272.00, capped at 30000.00, cap factor 30000/52272 = 625/1089
    assert (january.gross, january.commission) == (Decimal("36000.00"), Decimal("30000.00"))
    assert january.cap_factor == F(625, 1089)
    # February: -round(100000 x 0.12 x 1.452 x 625/1089, 2) = -10000.00; the negative total pays 0 and is carried
    assert february.clawback == Decimal("-10000.00")
    assert (february.commission, february.total, february.balance_after) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("-10000.00"),
    )


@pytest.mark.parametrize(("late", "clawback"), [(timedelta(0), "-100.00"), (timedelta(seconds=1), "0.00")])
def test_clawback_window_is_clawback_days_times_24_hours(late, clawback):
    # given an order paid on 10 January at 10:00 and refunded in full 90 days later (or one second past that)
    paid = at(1, 10, 10)
    order = Order("o1", "cloud_server", "1000.00", paid, "1000.00", paid + timedelta(days=90) + late)
    cycles = [CycleInput(*window, PLAN) for window in MONTHS[:4]]
    # when
    payouts = payout_series([order], cycles)
    # then January pays 100.00; April (which holds the refund) claws it back only within the window
    assert [p.commission for p in payouts] == [Decimal("100.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00")]
    assert [p.clawback for p in payouts] == [Decimal("0.00")] * 3 + [Decimal(clawback)]


def test_refund_in_the_paid_cycle_or_of_an_order_paid_before_any_cycle_is_not_clawed_back():
    # given one order refunded in its own cycle, one paid before the first cycle and refunded in it
    same = Order("same", "cloud_server", "1000.00", at(2, 2), "1000.00", at(2, 3))
    before = Order("before", "cloud_server", "1000.00", at(1, 20), "1000.00", at(2, 3))
    # when
    (february,) = payout_series([same, before], [CycleInput(*MONTHS[1], PLAN)])
    # then the refund only lowers net; nothing to claw back
    assert (february.gross, february.clawback, february.total) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))


def test_negative_total_carries_over_two_cycles():
    # given
    orders = [
        Order("o1", "cloud_server", "10000.00", at(1, 5), "10000.00", at(2, 3)),  # 1000.00, clawed back in February
        Order("o2", "cloud_server", "4000.00", at(3, 2)),  # 400.00
        Order("o3", "cloud_server", "8000.00", at(4, 3)),  # 800.00
    ]
    cycles = [CycleInput(*window, PLAN) for window in MONTHS]
    # when
    payouts = payout_series(orders, cycles)
    # then February -1000.00 -> pays 0; March 400 - 1000 -> pays 0, carries -600; April 800 - 600 = 200
    rows = [(p.commission, p.clawback, p.carried_balance, p.total) for p in payouts]
    assert rows == [
        (Decimal("1000.00"), Decimal("0.00"), Decimal("0.00"), Decimal("1000.00")),
        (Decimal("0.00"), Decimal("-1000.00"), Decimal("0.00"), Decimal("0.00")),
        (Decimal("400.00"), Decimal("0.00"), Decimal("-1000.00"), Decimal("0.00")),
        (Decimal("800.00"), Decimal("0.00"), Decimal("-600.00"), Decimal("200.00")),
        (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
    ]
