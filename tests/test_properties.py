"""Property-based tests (hypothesis): random inputs to the parsers, the scoring rules, the money
arithmetic and the SLA clock never fail with anything but a validation error, and their
invariants hold for every input, not only the examples the other tests pick."""

import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commission import calc
from performance.appraisal import rules
from performance.appraisal.scoring import IndicatorScore, SectionScore, aggregate
from performance.common.money import round_half_up, round_money
from performance.common.numbers import bounded_decimal
from performance.ingest import parsers
from performance.sla import clock

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# what a cell or a form field can hold: any text, numbers in every spelling, hostile exponents
cells = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\s*[-+]?(\d{0,30}(\.\d{0,30})?|NaN|sNaN|Infinity|inf)([eE][-+]?\d{1,12})?\s*", fullmatch=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.datetimes(),
    st.dates(),
    st.booleans(),
)
PARSERS = [
    parsers.parse_money,
    parsers.parse_decimal,
    parsers.parse_datetime,
    parsers.parse_date,
    parsers.parse_bool,
    parsers.parse_int(0),
    parsers.parse_int(1, 5),
    parsers.parse_choice(["low", "normal"]),
    parsers.parse_str(32),
]


@pytest.mark.parametrize("parse", PARSERS, ids=lambda p: getattr(p, "__qualname__", str(p)))
@FAST
@given(value=cells)
def test_a_parser_returns_a_value_or_refuses_with_a_reason(parse, value):
    try:
        parse(value)
    except ValueError as exc:
        assert str(exc)  # a reason a person can read, nothing else


@FAST
@given(value=cells)
def test_a_parsed_amount_fits_the_money_column(value):
    try:
        amount = parsers.parse_money(value)
    except ValueError:
        return
    assert amount.is_finite() and amount >= 0 and amount.as_tuple().exponent == -2
    assert amount.adjusted() < 12  # 14 digits, 2 after the point


@FAST
@given(value=cells)
def test_a_bounded_number_is_finite_and_within_its_digits(value):
    try:
        number = bounded_decimal(value, max_digits=6, places=2, low=0, high=100)
    except ValueError:
        return
    assert number.is_finite() and 0 <= number <= 100 and number.as_tuple().exponent >= -2


# --- scoring ---------------------------------------------------------------------------

numbers = st.one_of(
    st.fractions(min_value=-1000, max_value=1000, max_denominator=1000),
    st.decimals(min_value=-1000, max_value=1000, places=4),
    st.integers(min_value=-1000, max_value=1000),
)
params = st.fixed_dictionaries(
    {},
    optional={
        "floor": numbers,
        "target": numbers,
        "scale": numbers,
        "direction": st.sampled_from(["higher", "lower", "sideways"]),
        "bands": st.lists(st.tuples(numbers, numbers), max_size=4),
    },
)


@FAST
@given(rule=st.sampled_from(sorted(name for name, r in rules.RULES.items() if not r.needs_peers)), p=params, v=numbers)
def test_a_rule_either_refuses_its_parameters_or_scores_every_value(rule, p, v):
    errors = []
    rules.check_indicator(errors, "x", rule, p, has_metric=rules.get(rule).source == "metric")
    if errors:
        return  # a validation error, named by its path
    assert isinstance(rules.score(rule, p, v), Fraction)
    assert rules.score(rule, p, None) is None


weights = st.integers(min_value=1, max_value=100)
scores = st.one_of(st.none(), st.fractions(min_value=0, max_value=100, max_denominator=10_000))
sections = st.lists(
    st.tuples(weights, st.lists(st.tuples(weights, scores), min_size=1, max_size=5)), min_size=1, max_size=4
)


@FAST
@given(layout=sections)
def test_contributions_always_sum_to_the_final_score(layout):
    built = [
        SectionScore(
            code=f"s{i}",
            weight=w,
            indicators=[IndicatorScore(code=f"i{j}", weight=iw, score=sc) for j, (iw, sc) in enumerate(inds)],
        )
        for i, (w, inds) in enumerate(layout)
    ]
    result = aggregate(built)
    contributions = [i.contribution for s in result.sections for i in s.indicators if i.contribution is not None]
    if result.final is None:
        assert contributions == []
        return
    assert sum(contributions) == result.final  # exactly, as Fractions
    assert 0 <= result.final <= 100
    assert result.rounded == round_half_up(result.final, 2)


# --- money -----------------------------------------------------------------------------

exact = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False)


@FAST
@given(value=exact, places=st.integers(min_value=0, max_value=6))
def test_half_up_rounding_matches_decimals_round_half_up(value, places):
    with localcontext() as ctx:
        ctx.prec = 60
        expected = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    assert round_half_up(value, places) == expected
    assert round_half_up(Fraction(value), places) == expected


@FAST
@given(
    numerator=st.integers(min_value=-(10**12), max_value=10**12), denominator=st.integers(min_value=1, max_value=10**6)
)
def test_half_up_rounding_of_a_fraction_is_within_half_a_cent_and_rounds_halves_away_from_zero(numerator, denominator):
    value = Fraction(numerator, denominator)
    rounded = round_money(value)
    assert abs(Fraction(rounded) - value) <= Fraction(1, 200)
    if abs(Fraction(rounded) - value) == Fraction(1, 200):
        assert abs(Fraction(rounded)) > abs(value)


amounts = st.decimals(min_value=0, max_value=10**8, places=2)
rates = st.decimals(min_value=0, max_value=1, places=4)


@FAST
@given(amount=amounts, refunded=amounts, in_window=st.booleans(), rate=rates, extra=rates, minimum=st.none() | amounts)
def test_an_order_line_is_the_net_times_the_rate_rounded_once(amount, refunded, in_window, rate, extra, minimum):
    line = calc.order_line(
        amount=amount,
        refunded=refunded,
        refunded_in_window=in_window,
        rate=rate,
        high_value_min=minimum,
        extra_rate=extra,
    )
    net = amount - refunded if in_window else amount
    assert line.amount == round_money(Fraction(net) * Fraction(line.rate))
    assert line.amount.as_tuple().exponent == -2


@FAST
@given(
    lines=st.lists(amounts, max_size=20),
    multiplier=st.fractions(min_value=0, max_value=3, max_denominator=1000),
    cap=st.none() | amounts,
)
def test_a_commission_never_exceeds_its_cap_and_its_cap_factor_rebuilds_it(lines, multiplier, cap):
    result = calc.commission(lines=lines, multiplier=multiplier, cap=cap)
    assert result.gross == sum(lines, Decimal(0))
    if cap is not None:
        assert result.commission <= cap
    assert 0 <= result.cap_factor <= 1
    assert Fraction(result.uncapped) * result.cap_factor == Fraction(result.commission)


@FAST
@given(commission=amounts, clawback=amounts, carried=st.decimals(min_value=-(10**6), max_value=0, places=2))
def test_settling_pays_nothing_negative_and_loses_nothing(commission, clawback, carried):
    total, forward = calc.settle(commission=commission, clawback=-clawback, carried=carried)
    assert total >= 0 and forward <= 0
    assert total + forward == commission - clawback + carried


# --- SLA clock -------------------------------------------------------------------------

TZ = ZoneInfo("Asia/Shanghai")
holidays = st.frozensets(
    st.dates(min_value=datetime.date(2026, 1, 1), max_value=datetime.date(2026, 3, 31)), max_size=15
)


@FAST
@given(
    start=st.datetimes(min_value=datetime.datetime(2026, 1, 1), max_value=datetime.datetime(2026, 2, 28)),  # noqa: DTZ001 - naive bounds, zoned below
    minutes=st.integers(min_value=1, max_value=60 * 60),
    off=holidays,
)
def test_a_working_hours_due_time_never_falls_outside_a_working_period(start, minutes, off):
    calendar = clock.Calendar(
        time_zone="Asia/Shanghai",
        periods={d: [(datetime.time(9), datetime.time(12)), (datetime.time(13), datetime.time(18))] for d in range(5)},
        holidays=off,
    )
    due = clock.due_at(start.replace(tzinfo=TZ), minutes, "working", calendar)
    local = due.astimezone(TZ)
    # inside a working period, its end included (a due time landing at 18:00 is 18:00)
    assert any(b <= local.time() <= e for b, e in calendar.periods_on(local.date())), local
    assert due > start.replace(tzinfo=TZ)
