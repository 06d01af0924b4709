"""The contract's "Edge rules", each through the command and through the admin where it reaches.

One rounding (the three examples of issue 16), decimal durations, the ratio clamp, a member
whose every section is undefined, one commission plan per role in a cycle, and leavers and
joiners appraised and paid on their window's data.
"""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from commission.definitions import plan_load
from commission.models import CyclePlan, Payout
from performance.appraisal.definitions import template_load
from performance.appraisal.metrics import compute_metrics
from performance.models import Appraisal, AppraisalCycle, IndicatorResult, Staff, Ticket
from tests.factories import PLAN, OrderFactory, StaffFactory, TicketFactory, UserFactory, local

pytestmark = pytest.mark.django_db

JAN = ("--start", "2026-01-01", "--end", "2026-02-01")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def close_cycle(django_capture_on_commit_callbacks):
    """``close_cycle NAME --wait``; the test's transaction never commits, so run the hand-over here."""

    def close(name="2026-01"):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("close_cycle", name, stdout=io.StringIO())
        assert AppraisalCycle.objects.get(name=name).state == "review"

    return close


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def exported(tmp_path, command, cycle="2026-01"):
    path = tmp_path / f"{command}.csv"
    call_command(command, cycle, "--output", str(path), stdout=io.StringIO())
    return {row["employee_no"]: row for row in csv.DictReader(path.open(encoding="utf-8-sig"))}


def admin_import(client, model, body: str):
    """Preview, then confirm an import through a model's admin door; returns the preview page."""
    response = client.post(
        f"/admin/{model}/import/",
        {"import_file": SimpleUploadedFile("f.csv", body.encode(), content_type="text/csv"), "format": "0"},
    )
    form = response.context.get("confirm_form") if response.context else None
    if form is not None:
        client.post(f"/admin/{model}/process_import/", form.initial, follow=True)
    return response


def admin_close_and_results(client, capture, cycle_name="2026-01"):
    """Close through the admin's confirmation page, then download the results CSV it links."""
    cycle = AppraisalCycle.objects.get(name=cycle_name)
    with capture(execute=True):
        client.post(f"/admin/performance/appraisalcycle/{cycle.pk}/close/", follow=True)
    body = client.get(f"/admin/performance/appraisalcycle/{cycle.pk}/results.csv").content.decode("utf-8-sig")
    return {row["employee_no"]: row for row in csv.DictReader(io.StringIO(body))}


def imported_metric_template(code, scoring, *, metric="plays", min_tickets=0):
    return {
        "code": code,
        "name": code,
        "role": "operator",
        "sections": [
            {
                "code": "kpi",
                "kind": "kpi",
                "weight": 100,
                "indicators": [{"code": "x", "metric": metric, "weight": 100, "scoring": scoring}],
            }
        ],
        "grading": {"method": "thresholds", "grades": [[60, "good"], [0, "needs_improvement"]]},
        "eligibility": {"min_tickets": min_tickets},
    }


# --- one rounding: the three examples of issue 16 -------------------------------------------------


def test_the_three_examples_export_each_score_rounded_once_half_up(tmp_path, close_cycle):
    # given exact scores 21.0749620852 (ratio of an imported value), 92.1050343448 (the same) and
    # 1500/119 = 12.6050420168… (linear first_response_rate_2m: 37 of 68 tickets within 2 minutes)
    template_load(data=imported_metric_template("ops", {"rule": "ratio", "target": 1000}))
    template_load(
        data={
            **imported_metric_template("cs", {"rule": "linear", "floor": 0.5, "target": 0.85}),
            "role": "agent",
            "sections": [
                {
                    "code": "kpi",
                    "kind": "kpi",
                    "weight": 100,
                    "indicators": [
                        {
                            "code": "frt",
                            "metric": "first_response_rate_2m",
                            "weight": 100,
                            "scoring": {"rule": "linear", "floor": 0.5, "target": 0.85},
                        }
                    ],
                }
            ],
        }
    )
    StaffFactory(employee_no="OP1", role="operator")
    StaffFactory(employee_no="OP2", role="operator")
    agent = StaffFactory(employee_no="AG1")
    for i in range(68):
        created = local(2026, 1, 5, 9) + datetime.timedelta(minutes=i)
        delay = 120 if i < 37 else 121  # 37 of 68 within 2 minutes
        TicketFactory(staff=agent, created_at=created, first_response_at=created + datetime.timedelta(seconds=delay))
    call_command("create_cycle", "2026-01", *JAN, stdout=io.StringIO())
    metrics = "cycle,employee_no,metric,value\n2026-01,OP1,plays,210.749620852\n2026-01,OP2,plays,921.050343448\n"
    call_command("import_data", "metrics", str(write(tmp_path, "m.csv", metrics)), stdout=io.StringIO())
    # when the cycle is closed and its results exported
    close_cycle()
    rows = exported(tmp_path, "export_results")
    # then each score is its exact value rounded once, half-up (not 21.08, 92.10, 12.60)
    assert rows["OP1"]["kpi.x.score"] == "21.07"
    assert rows["OP2"]["kpi.x.score"] == "92.11"
    assert rows["AG1"]["kpi.frt.score"] == "12.61"
    assert rows["AG1"]["kpi.frt.value"] == "0.5441176471"  # 37/68
    # and the final scores and the stored figures people read agree with them
    assert (rows["OP1"]["final_score"], rows["OP2"]["final_score"], rows["AG1"]["final_score"]) == (
        "21.07",
        "92.11",
        "12.61",
    )
    frt = IndicatorResult.objects.get(appraisal__staff=agent)
    assert (frt.score, frt.effective_weight, frt.contribution) == (
        Decimal("12.61"),
        Decimal("1.0000"),
        Decimal("12.6050"),
    )


def test_the_breakdown_page_shows_the_figures_rounded_once(client, tmp_path, close_cycle):
    # given an operator whose exact score is 21.0749620852, on a published cycle
    template_load(data=imported_metric_template("ops", {"rule": "ratio", "target": 1000}))
    member = StaffFactory(employee_no="OP1", role="operator")
    call_command("create_cycle", "2026-01", *JAN, stdout=io.StringIO())
    metrics = "cycle,employee_no,metric,value\n2026-01,OP1,plays,210.749620852\n"
    call_command("import_data", "metrics", str(write(tmp_path, "m.csv", metrics)), stdout=io.StringIO())
    close_cycle()
    # when the member opens their results
    client.force_login(member.user)
    page = client.get("/me/").content.decode()
    # then the score reads 21.07, the share 100.00%, the contribution 21.0750 and the raw value in full
    assert '<td class="num">21.07</td>' in page
    assert "100.00%" in page
    assert ">21.0750<" in page
    assert "210.749620852" in page
    assert "21.08" not in page


# --- decimal durations --------------------------------------------------------------------------

TICKETS_HEADER = "external_id,employee_no,created_at,avg_response_seconds\n"
DURATIONS = "T1,E001,2026-01-05 10:00,180.5\nT2,E001,2026-01-05 11:00,180.0\nT3,E001,2026-01-05 12:00,179.999\n"


def avg_rate_of(staff):
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
    return compute_metrics([staff.pk], start, end)[staff.pk]["avg_response_rate_3m"].value


def test_the_command_imports_decimal_durations_and_180_compares_exactly(tmp_path):
    # given average response times of 180.5, 180.0 and 179.999 seconds
    staff = StaffFactory(employee_no="E001")
    # when imported by the command
    call_command("import_data", "tickets", str(write(tmp_path, "t.csv", TICKETS_HEADER + DURATIONS)))
    # then they are kept exactly and ≤ 180 holds for 180.0 and 179.999, not for 180.5
    stored = dict(Ticket.objects.values_list("external_id", "avg_response_seconds"))
    assert stored == {"T1": Decimal("180.5"), "T2": Decimal("180"), "T3": Decimal("179.999")}
    assert str(avg_rate_of(staff)) == "2/3"


def test_the_admin_imports_decimal_durations(admin_client):
    # given the same file / when imported through the ticket admin's import door
    staff = StaffFactory(employee_no="E001")
    admin_import(admin_client, "performance/ticket", TICKETS_HEADER + DURATIONS)
    # then the same exact values and the same rate
    assert Ticket.objects.get(external_id="T1").avg_response_seconds == Decimal("180.5")
    assert str(avg_rate_of(staff)) == "2/3"


@pytest.mark.parametrize(
    ("value", "message"),
    [("180.1234567", "has more than 6 decimal places"), ("-1", "must be at least 0"), ("abc", "is not a number")],
)
def test_a_duration_that_is_not_a_decimal_of_seconds_is_refused_with_its_row_and_column(tmp_path, value, message):
    # given a duration with too many places, negative or not a number
    StaffFactory(employee_no="E001")
    body = TICKETS_HEADER + f"T1,E001,2026-01-05 10:00,{value}\n"
    # when imported / then it is refused naming row and column, and nothing is written
    with pytest.raises(CommandError, match=f"row 2, column avg_response_seconds: .*{message}"):
        call_command("import_data", "tickets", str(write(tmp_path, "t.csv", body)))
    assert not Ticket.objects.exists()


# --- ratio clamp ----------------------------------------------------------------------------------

RATIO_METRICS = "cycle,employee_no,metric,value\n2026-01,OP1,growth,-5\n2026-01,OP2,growth,50\n"


def test_a_negative_ratio_scores_0_through_the_command(tmp_path, close_cycle):
    # given a ratio indicator on an imported metric, one value negative
    template_load(data=imported_metric_template("growth", {"rule": "ratio", "target": 100}, metric="growth"))
    StaffFactory(employee_no="OP1", role="operator")
    StaffFactory(employee_no="OP2", role="operator")
    call_command("create_cycle", "2026-01", *JAN, stdout=io.StringIO())
    call_command("import_data", "metrics", str(write(tmp_path, "m.csv", RATIO_METRICS)), stdout=io.StringIO())
    # when closed and exported
    close_cycle()
    rows = exported(tmp_path, "export_results")
    # then the negative value scores 0, never below
    assert (rows["OP1"]["kpi.x.value"], rows["OP1"]["kpi.x.score"], rows["OP1"]["final_score"]) == (
        "-5",
        "0.00",
        "0.00",
    )
    assert rows["OP2"]["kpi.x.score"] == "50.00"


def test_a_negative_ratio_scores_0_through_the_admin(admin_client, django_capture_on_commit_callbacks):
    # given the same, imported through the metric admin's door and closed from the admin
    template_load(data=imported_metric_template("growth", {"rule": "ratio", "target": 100}, metric="growth"))
    StaffFactory(employee_no="OP1", role="operator")
    StaffFactory(employee_no="OP2", role="operator")
    call_command("create_cycle", "2026-01", *JAN, stdout=io.StringIO())
    admin_import(admin_client, "performance/metricvalue", RATIO_METRICS)
    rows = admin_close_and_results(admin_client, django_capture_on_commit_callbacks)
    # then the admin's results file shows 0.00 for the negative value
    assert (rows["OP1"]["kpi.x.score"], rows["OP2"]["kpi.x.score"]) == ("0.00", "50.00")


# --- every section undefined ----------------------------------------------------------------------


def undefined_member_setup(tmp_path):
    """OP1 has a value, OP0 (first by employee_no) has none: every section of OP0 is undefined."""
    template_load(data=imported_metric_template("ops", {"rule": "ratio", "target": 100}))
    StaffFactory(employee_no="OP0", role="operator")
    StaffFactory(employee_no="OP1", role="operator")
    call_command("create_cycle", "2026-01", *JAN, stdout=io.StringIO())
    metrics = "cycle,employee_no,metric,value\n2026-01,OP1,plays,80\n"
    call_command("import_data", "metrics", str(write(tmp_path, "m.csv", metrics)), stdout=io.StringIO())


def test_every_section_undefined_gives_an_empty_final_score_not_rated_and_no_place(tmp_path, close_cycle):
    # given an eligible member with no defined indicator at all
    undefined_member_setup(tmp_path)
    # when closed through the command and exported
    close_cycle()
    rows = exported(tmp_path, "export_results")
    # then the final score and rank are empty, the grade not_rated, and the other member is first
    op0 = rows["OP0"]
    assert (op0["final_score"], op0["grade"], op0["rank"], op0["kpi.x.score"]) == ("", "not_rated", "", "")
    assert (rows["OP1"]["final_score"], rows["OP1"]["rank"], rows["OP1"]["grade"]) == ("80.00", "1", "good")


def test_every_section_undefined_shows_empty_in_the_admin_and_on_the_pages(
    admin_client, tmp_path, django_capture_on_commit_callbacks
):
    # given the same member, closed from the admin
    undefined_member_setup(tmp_path)
    rows = admin_close_and_results(admin_client, django_capture_on_commit_callbacks)
    # then the admin's results file is empty where the command's is
    assert (rows["OP0"]["final_score"], rows["OP0"]["grade"], rows["OP0"]["rank"]) == ("", "not_rated", "")
    # and the admin's appraisal list shows it with an empty score and no rank
    listing = admin_client.get("/admin/performance/appraisal/?grade=not_rated").content.decode()
    assert member_row_shows_no_score(listing)
    # and the member's own page shows n/a, never 0 or a place
    member = Staff.objects.get(employee_no="OP0")
    appraisal = Appraisal.objects.get(staff=member)
    assert (appraisal.final_score, appraisal.rank, appraisal.grade) == (None, None, "not_rated")
    own = Client()
    own.force_login(member.user)
    page = own.get("/me/").content.decode()
    assert '<span class="big" id="summary-score">n/a</span>' in page
    assert '<strong id="final-score"></strong>' in page


def member_row_shows_no_score(listing: str) -> bool:
    """The admin list's one row: the (effective) score reads n/a and the rank is empty."""
    cells = {
        name: re.search(rf'<td class="field-{name}[^"]*"[^>]*>(.*?)</td>', listing, re.S).group(1).strip()
        for name in ("score_shown", "rank_shown")
    }
    return cells == {"score_shown": "n/a", "rank_shown": "—"}


# --- one commission plan per role -----------------------------------------------------------------

SECOND_PLAN = {**PLAN, "code": "support-sales", "name": "Support sales", "roles": ["sales"]}


def test_create_cycle_refuses_two_plans_for_one_role_naming_both_and_writes_nothing():
    # given two plans that both pay role "sales"
    plan_load(data=PLAN)
    plan_load(data=SECOND_PLAN)
    # when a cycle is created with both
    with pytest.raises(CommandError) as failed:
        call_command("create_cycle", "2026-01", *JAN, "--plan", "cloud-sales", "--plan", "support-sales")
    # then it is refused naming both plans and the role, and no cycle is written
    assert "cloud-sales" in str(failed.value) and "support-sales" in str(failed.value)
    assert "role sales" in str(failed.value)
    assert not AppraisalCycle.objects.exists() and not CyclePlan.objects.exists()


def test_create_cycle_refuses_two_active_plans_for_one_role_by_default():
    # given two active plans for "sales" and no --plan: every active plan would be pinned
    plan_load(data=PLAN)
    plan_load(data=SECOND_PLAN)
    # when / then refused the same way
    with pytest.raises(CommandError, match="Plans cloud-sales and support-sales both pay role sales"):
        call_command("create_cycle", "2026-01", *JAN)
    assert not AppraisalCycle.objects.exists()


def test_plans_for_different_roles_go_together():
    # given plans for different roles / when both are chosen / then the cycle pins both
    plan_load(data=PLAN)
    plan_load(data={**SECOND_PLAN, "roles": ["aftersales"]})
    call_command("create_cycle", "2026-01", *JAN, "--plan", "cloud-sales", "--plan", "support-sales")
    assert CyclePlan.objects.filter(cycle__name="2026-01").count() == 2


# --- leavers and joiners --------------------------------------------------------------------------

STAFF = (
    "employee_no,name,team,role,hired_on,active\n"
    "S1,在职,销售部,sales,2025-01-01,true\n"
    "S2,离职,销售部,sales,2025-01-01,false\n"
    "S3,新人,销售部,sales,2026-01-16,true\n"
    "S4,二月入职,销售部,sales,2026-02-01,true\n"
    "S5,早已离职,销售部,sales,2024-01-01,false\n"
)


def leavers_and_joiners_data():
    """S2 left (inactive) after selling in January; S3 joined mid-January; S4 joins in February; S5 left long ago."""
    plan_load(data={**PLAN, "modifiers": {}})
    sales = imported_metric_template("sales", {"rule": "ratio", "target": 1000}, metric="sales_amount")
    template_load(data={**sales, "role": "sales"})
    for eno, day in (("S1", 5), ("S2", 6), ("S3", 20)):
        staff = Staff.objects.get(employee_no=eno)
        if eno != "S2":  # the leaver sold, but handled no ticket
            TicketFactory(staff=staff, created_at=local(2026, 1, day, 9))
        OrderFactory(staff=staff, paid_at=local(2026, 1, day, 10), amount=Decimal("1000.00"))


def test_leavers_and_joiners_are_appraised_and_paid_on_their_window_through_the_commands(tmp_path, close_cycle):
    # given staff imported by the command: a leaver and a mid-window joiner with January sales
    call_command("import_data", "staff", str(write(tmp_path, "s.csv", STAFF)), stdout=io.StringIO())
    leavers_and_joiners_data()
    call_command("create_cycle", "2026-01", *JAN, stdout=io.StringIO())
    # when the cycle is closed and exported
    close_cycle()
    results, payouts = exported(tmp_path, "export_results"), exported(tmp_path, "export_payouts")
    # then the leaver and the joiner are appraised and paid like everyone else (10% of 1000.00)
    assert sorted(results) == ["S1", "S2", "S3"]
    assert {eno: row["total"] for eno, row in payouts.items()} == {"S1": "100.00", "S2": "100.00", "S3": "100.00"}
    # and the leaver still has no login
    assert not Staff.objects.get(employee_no="S2").active


def test_leavers_and_joiners_are_appraised_and_paid_through_the_admin(admin_client, django_capture_on_commit_callbacks):
    # given the same staff imported through the staff admin's door, the cycle closed from the admin
    admin_import(admin_client, "performance/staff", STAFF)
    leavers_and_joiners_data()
    call_command("create_cycle", "2026-01", *JAN, stdout=io.StringIO())
    rows = admin_close_and_results(admin_client, django_capture_on_commit_callbacks)
    # then the admin's results and the payouts hold the leaver and the joiner, not February's joiner
    assert sorted(rows) == ["S1", "S2", "S3"]
    paid = dict(Payout.objects.values_list("staff__employee_no", "total"))
    assert paid == {"S1": Decimal("100.00"), "S2": Decimal("100.00"), "S3": Decimal("100.00")}
