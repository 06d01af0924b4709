"""The appraisal close end to end (in-process Celery), with hand-computed results."""

import csv
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from performance.appraisal.definitions import template_load
from performance.appraisal.reviews import kci_rate
from performance.appraisal.services import cycle_close, cycle_create, cycle_finalize, cycle_reopen
from performance.models import (
    Appraisal,
    AppraisalCycle,
    CycleState,
    IndicatorResult,
    KciRating,
    MemberMetrics,
    Staff,
)
from tests.factories import AGENT_TEMPLATE, StaffFactory, TicketFactory, UserFactory, local, make_population
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def close(cycle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cycle_close(cycle=cycle)
    cycle.refresh_from_db()
    return cycle


def test_close_computes_hand_checked_scores_ranks_and_grades(agent_template, django_capture_on_commit_callbacks):
    # given
    a, b, c = make_population()
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    kci_rate(cycle=cycle, staff=a, indicator="attitude", rating=Decimal("4"))
    # when
    close(cycle, django_capture_on_commit_callbacks)
    # then
    assert cycle.state == CycleState.REVIEW
    results = {x.staff.employee_no: x for x in Appraisal.objects.filter(cycle=cycle).select_related("staff")}
    # A: frt 0.8 → 100×0.3/0.35 = 85.714…; csat 3/5 = 0.6 → 40; KPI 62.857…; final 0.8×62.857+0.2×80 = 66.2857
    assert results["E001"].final_score == Decimal("66.29")
    assert results["E001"].grade == "needs_improvement"
    # B: frt 1.0 → 100; csat undefined and KCI missing are left out → 100
    assert results["E002"].final_score == Decimal("100.00")
    assert (results["E002"].rank, results["E002"].grade) == (1, "excellent")
    assert results["E001"].rank == 2
    # C: 3 tickets < min 5: scored but not rated and takes no place
    assert results["E003"].final_score == Decimal("100.00")
    assert (results["E003"].eligible, results["E003"].rank, results["E003"].grade) == (False, None, "not_rated")
    frt = IndicatorResult.objects.get(appraisal=results["E001"], indicator="frt")
    assert frt.raw_value == Decimal("0.8")
    assert frt.score == Decimal("85.71")  # 600/7 rounded once, as people read it
    assert frt.effective_weight == Decimal("0.4000")  # 80% × 50%
    contributions = IndicatorResult.objects.filter(appraisal=results["E001"]).values_list("contribution", flat=True)
    assert sum(c for c in contributions if c is not None) == Decimal("66.2857")


def test_window_edges_are_midnight_in_the_site_time_zone_and_utc_input_counts_the_same(
    agent_template, django_capture_on_commit_callbacks
):
    # given tickets given in UTC at the local midnight edges
    member = StaffFactory(employee_no="E010")
    inside_first = datetime.datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 2026-01-01 00:00 +08:00
    just_before = datetime.datetime(2025, 12, 31, 15, 59, 59, tzinfo=UTC)
    at_end = datetime.datetime(2026, 1, 31, 16, 0, tzinfo=UTC)  # 2026-02-01 00:00 +08:00, excluded
    last_inside = datetime.datetime(2026, 1, 31, 15, 59, 59, tzinfo=UTC)
    for when in (inside_first, just_before, at_end, last_inside):
        TicketFactory(staff=member, created_at=when)
    cycle = cycle_create(name="edges", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    # when
    close(cycle, django_capture_on_commit_callbacks)
    # then
    handled = MemberMetrics.objects.get(cycle=cycle, staff=member).values["tickets_handled"]
    assert handled == [2, None]


def test_closing_again_recomputes_and_replaces_never_duplicates(agent_template, django_capture_on_commit_callbacks):
    a, _b, _c = make_population()
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    close(cycle, django_capture_on_commit_callbacks)
    first = Appraisal.objects.get(cycle=cycle, staff=a).final_score
    kci_rate(cycle=cycle, staff=a, indicator="attitude", rating=Decimal("5"))
    close(cycle, django_capture_on_commit_callbacks)
    assert Appraisal.objects.filter(cycle=cycle).count() == 3
    assert IndicatorResult.objects.filter(appraisal__cycle=cycle).count() == 9
    # A without KCI: final = KPI = 62.86; with 5/5: 0.8 × 62.857 + 20 = 70.29
    assert (first, Appraisal.objects.get(cycle=cycle, staff=a).final_score) == (Decimal("62.86"), Decimal("70.29"))
    # created, then changed: both audited with what they held
    assert list(
        Appraisal.history.filter(staff=a)
        .order_by("history_id")
        .values_list("history_type", "final_score", "grade", "cycle_id", "history_user")
    ) == [
        ("+", Decimal("62.86"), "needs_improvement", cycle.pk, None),
        ("~", Decimal("70.29"), "needs_improvement", cycle.pk, None),
    ]
    assert Appraisal.history.filter(cycle=cycle, history_type="+").count() == 3  # one creation record each
    # a member who joins before the next close gets a creation record; the others do not get a second
    d = StaffFactory(employee_no="E004")
    TicketFactory(staff=d, created_at=local(2026, 1, 20, 9))
    close(cycle, django_capture_on_commit_callbacks)
    created = Appraisal.history.filter(cycle=cycle, history_type="+")
    assert sorted(created.values_list("staff__employee_no", flat=True)) == ["E001", "E002", "E003", "E004"]


def test_a_second_close_while_one_runs_is_refused(agent_template):
    cycle = cycle_create(name="c", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    AppraisalCycle.objects.filter(pk=cycle.pk).update(state=CycleState.CLOSING)
    with pytest.raises(ValidationError, match="already closing"):
        cycle_close(cycle=cycle)


def test_a_finalized_cycle_is_locked(agent_template, django_capture_on_commit_callbacks):
    a, _b, _c = make_population()
    cycle = cycle_create(name="c", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    close(cycle, django_capture_on_commit_callbacks)
    cycle_finalize(cycle=cycle, actor=None)
    with pytest.raises(ValidationError, match="locked"):
        kci_rate(cycle=cycle, staff=a, indicator="attitude", rating=Decimal("1"))
    with pytest.raises(ValidationError, match="locked"):
        cycle_close(cycle=cycle)
    assert not KciRating.objects.filter(cycle=cycle).exists()


def _population(n):
    for i in range(n):
        member = StaffFactory(employee_no=f"P{i:04d}")
        for j in range(6):
            TicketFactory(staff=member, created_at=local(2026, 1, 2 + j, 10), rating=4 + (i + j) % 2)


@pytest.mark.parametrize("size", [20, 200])
def test_close_query_count_is_pinned_at_two_sizes(size, agent_template, django_capture_on_commit_callbacks, settings):
    settings.APPRAISAL = {**settings.APPRAISAL, "CLOSE_CHUNK_SIZE": 1000}
    _population(size)
    cycle = cycle_create(name="q", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    close(cycle, django_capture_on_commit_callbacks)
    TicketFactory(staff=Staff.objects.first(), created_at=local(2026, 1, 20, 10), rating=1)  # one result changes
    # Closing again updates rather than inserts. Bulk INSERTs and bulk UPDATEs (CASE WHEN) are split
    # in batches by the backend's parameter limit (SQLite: 999), so they are not counted; every other
    # statement is, and the count is the same at both sizes.
    with assert_num_queries(CLOSE_QUERIES, exclude=("INSERT", 'UPDATE "performance_appraisal" SET')):
        close(cycle, django_capture_on_commit_callbacks)
    assert Appraisal.objects.filter(cycle=cycle).count() == size


CLOSE_QUERIES = {
    "sqlite": 66,
    "postgresql": 68,
}  # per close and chunk, never per member; PostgreSQL: SET LOCAL planner settings; one for calibrated ranks


@pytest.mark.django_db(transaction=True)
def test_close_cycle_command_waits_and_export_results_writes_contract_columns(agent_template, tmp_path):
    make_population()
    call_command("create_cycle", "2026-01", "--start", "2026-01-01", "--end", "2026-02-01")
    call_command("close_cycle", "2026-01", "--wait")
    out = tmp_path / "r.csv"
    call_command("export_results", "2026-01", "--output", str(out))
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:7] == ["employee_no", "name", "template", "final_score", "grade", "rank", "eligible"]
    a = next(r for r in rows if r["employee_no"] == "E001")
    assert (a["final_score"], a["grade"], a["rank"], a["eligible"]) == ("62.86", "needs_improvement", "2", "true")
    assert (a["kpi.frt.value"], a["kpi.frt.score"], a["kpi.csat.value"], a["kpi.csat.score"]) == (
        "0.8",
        "85.71",
        "0.6",
        "40.00",
    )
    b = next(r for r in rows if r["employee_no"] == "E002")
    assert (b["kpi.csat.value"], b["kpi.csat.score"], b["kci.attitude.value"]) == ("", "", "")
    c = next(r for r in rows if r["employee_no"] == "E003")
    assert (c["grade"], c["rank"], c["eligible"]) == ("not_rated", "", "false")
    xlsx = tmp_path / "r.xlsx"
    call_command("export_results", "2026-01", "--output", str(xlsx), "--format", "xlsx")

    sheet = load_workbook(xlsx).worksheets[0]
    assert [cell.value for cell in sheet[1]][:3] == ["employee_no", "name", "template"]
    assert sheet.max_row == 4


def test_close_cycle_of_unknown_cycle_fails_clearly(db):
    with pytest.raises(CommandError, match="no cycle named nope"):
        call_command("close_cycle", "nope")


def test_rank_grading_orders_ties_by_employee_no(db, django_capture_on_commit_callbacks):
    data = {
        **AGENT_TEMPLATE,
        "grading": {"method": "rank", "grades": [[1, "excellent"], [None, "good"]]},
        "eligibility": {"min_tickets": 1},
    }
    template_load(data=data)
    for eno in ("E102", "E101"):
        member = StaffFactory(employee_no=eno)
        TicketFactory(staff=member, created_at=local(2026, 1, 4, 10))
    cycle = cycle_create(name="r", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    close(cycle, django_capture_on_commit_callbacks)
    ranked = list(
        Appraisal.objects.filter(cycle=cycle).order_by("rank").values_list("staff__employee_no", "rank", "grade")
    )
    assert ranked == [("E101", 1, "excellent"), ("E102", 2, "good")]


def test_reopening_a_finalized_cycle_is_a_superuser_action_with_a_reason(
    agent_template, django_capture_on_commit_callbacks
):
    make_population()
    cycle = cycle_create(name="c", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    close(cycle, django_capture_on_commit_callbacks)
    cycle_finalize(cycle=cycle, actor=None)
    hr = UserFactory(username="hr9", groups=["HR"])
    root = UserFactory(username="root9", is_superuser=True)
    with pytest.raises(PermissionDenied, match="hr9 may not reopen appraisalcycle"):
        cycle_reopen(cycle=cycle, actor=hr, reason="typo in KCI")
    with pytest.raises(ValidationError, match="needs a reason"):
        cycle_reopen(cycle=cycle, actor=root, reason="")
    reopened = cycle_reopen(cycle=cycle, actor=root, reason="typo in KCI")
    assert reopened.state == CycleState.REVIEW
    last = reopened.history.first()
    assert (last.history_user, last.history_change_reason, last.state) == (root, "typo in KCI", "review")


def test_two_needs_improvement_grades_in_a_row_flag_an_improvement_plan(
    agent_template, django_capture_on_commit_callbacks
):
    member = StaffFactory(employee_no="E050")
    for month_no in (1, 2, 3):
        for i in range(5):  # slow first responses and 1-star ratings: needs improvement
            created = local(2026, month_no, 5 + i, 10)
            TicketFactory(
                staff=member, created_at=created, first_response_at=created + datetime.timedelta(hours=1), rating=1
            )
    cycles = [
        cycle_create(name=f"m{m}", start=datetime.date(2026, m, 1), end=datetime.date(2026, m + 1, 1))
        for m in (1, 2, 3)
    ]
    for cycle in cycles:
        close(cycle, django_capture_on_commit_callbacks)
    flags = [Appraisal.objects.get(cycle=c, staff=member) for c in cycles]
    assert [(a.grade, a.improvement_plan) for a in flags] == [
        ("needs_improvement", False),
        ("needs_improvement", True),
        ("needs_improvement", True),
    ]
