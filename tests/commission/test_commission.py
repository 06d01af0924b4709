"""Commission per the contract, steps 1–5, with hand-computed figures."""

import csv
import datetime
import io
from decimal import Decimal
from fractions import Fraction

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from commission import calc
from commission.compute import cycle_payouts_compute
from commission.definitions import plan_load
from commission.models import CycleBudget, ExportBatch, LineKind, Payout, PayoutLine, PayoutStatus, StatementQuery
from commission.statements import budget_check, statement_query_answer, statement_query_ask
from commission.workflow import payouts_approve, payouts_hold, payouts_mark_paid, payouts_unlock, payroll_export
from performance.appraisal.definitions import template_load
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import Order
from tests.factories import AGENT_TEMPLATE, PLAN, OrderFactory, StaffFactory, TicketFactory, UserFactory, local
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db


def month(y, m):
    start = datetime.date(y, m, 1)
    end = datetime.date(y + (m == 12), m % 12 + 1, 1)
    return cycle_create(name=f"{y}-{m:02d}", start=start, end=end, templates=[], plans=None)


def test_order_lines_rates_high_value_and_refund_inside_the_window():
    # category rate
    assert calc.order_line(
        amount=Decimal("1000.00"), refunded=Decimal(0), refunded_in_window=False, rate=Decimal("0.10")
    ).amount == Decimal("100.00")
    # 333.33 × 20% = 66.666 → 66.67 (half-up per line)
    assert calc.order_line(
        amount=Decimal("333.33"), refunded=Decimal(0), refunded_in_window=False, rate=Decimal("0.20")
    ).amount == Decimal("66.67")
    # high value: 60000 × (5% + 2%)
    line = calc.order_line(
        amount=Decimal("60000.00"),
        refunded=Decimal(0),
        refunded_in_window=False,
        rate=Decimal("0.05"),
        high_value_min=Decimal("50000"),
        extra_rate=Decimal("0.02"),
    )
    assert (line.amount, line.rate) == (Decimal("4200.00"), Fraction(7, 100))
    # refunded inside the window: net 2000 − 500
    assert calc.order_line(
        amount=Decimal("2000.00"), refunded=Decimal("500.00"), refunded_in_window=True, rate=Decimal("0.10")
    ).amount == Decimal("150.00")
    # 0.125 rounds half-up to 0.13, not half-even to 0.12
    assert calc.order_line(
        amount=Decimal("1.25"), refunded=Decimal(0), refunded_in_window=False, rate=Decimal("0.10")
    ).amount == Decimal("0.13")


def test_modifiers_take_the_first_band_met_and_undefined_or_unnamed_is_one():
    mods = PLAN["modifiers"]
    factors = calc.modifier_factors(mods, {"satisfaction_rate": Fraction(9, 10), "retention_rate": None}, "good")
    assert [(n, f) for n, _v, f in factors] == [
        ("retention_rate", 1),
        ("satisfaction_rate", Fraction(11, 10)),
        ("grade", 1),
    ]
    factors = calc.modifier_factors(
        mods, {"satisfaction_rate": Fraction(79, 100), "retention_rate": Fraction(1)}, "not_rated"
    )
    assert [f for _n, _v, f in factors] == [Fraction(11, 10), Fraction(4, 5), 1]
    assert calc.band_multiplier([[0.5, 2]], Fraction(1, 10)) == 1  # no band met


def test_cap_and_exact_cap_factor():
    result = calc.commission(
        lines=[Decimal("20000.00"), Decimal("25000.01")], multiplier=Fraction(1), cap=Decimal(30000)
    )
    assert (result.gross, result.uncapped, result.commission) == (
        Decimal("45000.01"),
        Decimal("45000.01"),
        Decimal("30000"),
    )
    assert result.cap_factor == Fraction(3000000, 4500001)  # exact, not rounded
    assert calc.commission(lines=[], multiplier=Fraction(1), cap=Decimal(10)).cap_factor == 1


def test_negative_total_pays_zero_and_carries_forward():
    assert calc.settle(commission=Decimal("0.00"), clawback=Decimal("-110.00"), carried=Decimal("0.00")) == (
        Decimal("0.00"),
        Decimal("-110.00"),
    )
    assert calc.settle(commission=Decimal("300.00"), clawback=Decimal("0.00"), carried=Decimal("-110.00")) == (
        Decimal("190.00"),
        Decimal("0.00"),
    )


def test_quota_tiers_pay_each_slice_at_its_rate():
    lines = calc.tiered_lines(sales=Decimal("160000"), quota=Decimal("100000"), tiers=[[0, 0.05], [1, 0.1], [1.5, 0.2]])
    assert [amount for *_x, amount in lines] == [Decimal("5000.00"), Decimal("5000.00"), Decimal("2000.00")]


def test_payouts_across_cycles_net_clawback_carry_and_window_end(db):
    # given a seller with 90% satisfaction in January
    plan_load(data=PLAN)
    seller = StaffFactory(employee_no="S001", role="sales")
    for i in range(10):
        TicketFactory(staff=seller, created_at=local(2026, 1, 3, 9 + i), rating=5 if i < 9 else 2)
    o1 = OrderFactory(
        staff=seller,
        product_category="cloud_server",
        amount=Decimal("1000.00"),
        paid_at=local(2026, 1, 10, 10),
        refunded_amount=Decimal("1000.00"),
        refunded_at=local(2026, 2, 5, 10),
    )
    OrderFactory(
        staff=seller,
        product_category="support_plan",
        amount=Decimal("333.33"),
        paid_at=local(2026, 1, 10, 11),
        refunded_amount=Decimal("333.33"),
        refunded_at=local(2026, 4, 20, 10),
    )  # 100 days later: past the 90-day clawback window
    OrderFactory(staff=seller, product_category="consulting", amount=Decimal("60000.00"), paid_at=local(2026, 1, 11))
    OrderFactory(
        staff=seller,
        product_category="cloud_server",
        amount=Decimal("2000.00"),
        paid_at=local(2026, 1, 12),
        refunded_amount=Decimal("500.00"),
        refunded_at=local(2026, 1, 20),
    )
    OrderFactory(staff=seller, product_category="cloud_server", amount=Decimal("3000.00"), paid_at=local(2026, 3, 3))
    cycles = [month(2026, m) for m in (1, 2, 3, 4)]
    # when the cycles are closed one after another
    for cycle in cycles:
        cycle_close(inline=True, cycle=cycle)
    jan, feb, mar, apr = (Payout.objects.get(cycle=c, staff=seller) for c in cycles)
    # then January: 100.00 + 66.67 + 4200.00 + 150.00 = 4516.67; × 1.10 (satisfaction 0.9) = 4968.337 → 4968.34
    assert (jan.gross, jan.multiplier, jan.commission, jan.clawback, jan.total) == (
        Decimal("4516.67"),
        Decimal("1.1"),
        Decimal("4968.34"),
        Decimal("0.00"),
        Decimal("4968.34"),
    )
    # February: O1 refunded within 90 days: − round(1000 × 0.10 × 1.10 × 1) = −110.00; total −110 → 0, carried
    assert (feb.gross, feb.commission, feb.clawback, feb.total, feb.carry_forward) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("-110.00"),
        Decimal("0.00"),
        Decimal("-110.00"),
    )
    claw = PayoutLine.objects.get(payout=feb, kind=LineKind.CLAWBACK)
    assert (claw.order_id, claw.source_cycle_id, claw.amount) == (o1.pk, cycles[0].pk, Decimal("-110.00"))
    # March: 3000 × 10% = 300.00, no tickets so satisfaction undefined → × 1; carried −110 → 190.00
    assert (mar.commission, mar.carried_balance, mar.total) == (
        Decimal("300.00"),
        Decimal("-110.00"),
        Decimal("190.00"),
    )
    # April: the support-plan refund came after the clawback window: nothing
    assert (apr.clawback, apr.total, apr.carried_balance) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))


def test_clawback_uses_the_cap_factor_the_order_was_paid_under(db):
    plan_load(data={**PLAN, "cap": 100})
    seller = StaffFactory(employee_no="S002", role="sales")
    OrderFactory(
        staff=seller,
        amount=Decimal("2000.00"),
        paid_at=local(2026, 1, 5),
        refunded_amount=Decimal("1000.00"),
        refunded_at=local(2026, 2, 2),
    )
    jan, feb = month(2026, 1), month(2026, 2)
    cycle_close(inline=True, cycle=jan)
    cycle_close(inline=True, cycle=feb)
    first = Payout.objects.get(cycle=jan, staff=seller)
    assert (first.uncapped, first.commission) == (Decimal("200.00"), Decimal("100.00"))
    # − round(1000 × 0.10 × 1 × (100 / 200), 2) = −50.00
    assert Payout.objects.get(cycle=feb, staff=seller).clawback == Decimal("-50.00")


def test_grade_modifier_reads_this_cycles_grade(db):
    template_load(
        data={
            **AGENT_TEMPLATE,
            "role": "sales",
            "code": "sales",
            "eligibility": {"min_tickets": 0},
            "grading": {"method": "thresholds", "grades": [[0, "needs_improvement"]]},
        }
    )
    plan_load(data=PLAN)
    seller = StaffFactory(employee_no="S003", role="sales")
    TicketFactory(staff=seller, created_at=local(2026, 1, 3), rating=4)  # satisfaction 1.0 → × 1.10
    OrderFactory(staff=seller, amount=Decimal("1000.00"), paid_at=local(2026, 1, 5))
    cycle = cycle_create(name="g", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    payout = Payout.objects.get(cycle=cycle, staff=seller)
    # 100.00 × 1.10 × 0.80 = 88.00
    assert (payout.multiplier, payout.commission) == (Decimal("0.88"), Decimal("88.00"))
    labels = list(PayoutLine.objects.filter(payout=payout, kind=LineKind.MODIFIER).values_list("label", flat=True))
    assert labels == [
        "Modifier retention rate = n/a",
        "Modifier satisfaction rate = 100%",
        "Modifier grade = Needs improvement",
    ]


def test_state_machine_refusals_and_locked_recompute(db):
    plan_load(data=PLAN)
    seller = StaffFactory(employee_no="S004", role="sales")
    OrderFactory(staff=seller, paid_at=local(2026, 1, 5))
    cycle = month(2026, 1)
    cycle_close(inline=True, cycle=cycle)
    payout = Payout.objects.get(cycle=cycle)
    hr = UserFactory(username="hr1", groups=["HR"])
    finance = UserFactory(username="fin1", groups=["Finance"])
    assert Group.objects.get(name="Finance").user_set.filter(pk=finance.pk).exists()
    with pytest.raises(PermissionDenied, match="hr1 may not approve payout: the login's roles do not allow it"):
        payouts_approve(payouts=[payout], actor=hr)
    with pytest.raises(ValidationError, match="cannot become Paid"):
        payouts_mark_paid(payouts=[payout], actor=finance)
    with pytest.raises(ValidationError, match="needs a reason"):
        payouts_hold(payouts=[payout], actor=finance, reason="")
    assert payouts_approve(payouts=[payout], actor=finance).moved == 1
    with pytest.raises(ValidationError, match="approved payouts"):
        cycle_close(inline=True, cycle=cycle)
    payroll_export(cycle=cycle, actor=finance, file_format="csv")
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.EXPORTED
    assert payouts_mark_paid(payouts=[payout], actor=finance) == 1
    assert [h.status for h in payout.history.order_by("history_date")] == ["calculated", "approved", "exported", "paid"]


def test_export_payouts_contract_columns_and_two_decimals(db, tmp_path):
    plan_load(data=PLAN)
    seller = StaffFactory(employee_no="S005", role="sales", name="李雷")
    OrderFactory(staff=seller, amount=Decimal("1234.50"), paid_at=local(2026, 1, 5))
    cycle = month(2026, 1)
    cycle_close(inline=True, cycle=cycle)
    out = tmp_path / "p.csv"
    call_command("export_payouts", cycle.name, "--output", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 cleanly
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0])[:12] == [
        "employee_no",
        "name",
        "cycle",
        "plan",
        "gross",
        "multiplier",
        "commission",
        "clawback",
        "carried_balance",
        "total",
        "currency",
        "status",
    ]
    assert {k: rows[0][k] for k in ("employee_no", "name", "gross", "commission", "total", "currency", "status")} == {
        "employee_no": "S005",
        "name": "李雷",
        "gross": "123.45",
        "commission": "123.45",
        "total": "123.45",
        "currency": "CNY",
        "status": "calculated",
    }
    assert Payout.objects.get(cycle=cycle).status == PayoutStatus.CALCULATED  # export changes nothing


def test_plan_rates_outside_bounds_are_refused_with_the_path(db):
    with pytest.raises(ValidationError) as exc:
        plan_load(data={**PLAN, "rates": {"default": 0.05, "cloud_server": 0.25}})
    assert "rates.cloud_server: 0.25 lies outside the bounds 0.05–0.2" in exc.value.messages


def test_loading_a_changed_plan_makes_a_new_version_and_cycles_keep_theirs(db):
    v1, created = plan_load(data=PLAN)
    assert created
    assert plan_load(data=PLAN) == (v1, False)
    cycle = month(2026, 1)
    v2, created = plan_load(data={**PLAN, "cap": 20000, "effective_from": "2026-02-01"})
    assert (created, v2.version) == (True, 2)
    assert list(cycle.cycle_plans.values_list("plan_version__version", flat=True)) == [1]
    assert list(month(2026, 2).cycle_plans.values_list("plan_version__version", flat=True)) == [2]


def test_quarterly_plan_pays_on_the_cycle_that_ends_the_quarter_over_the_whole_quarter(db):
    plan_load(data={**PLAN, "period": "quarterly", "modifiers": {}})
    seller = StaffFactory(employee_no="S010", role="sales")
    for month_no in (1, 2, 3):
        OrderFactory(staff=seller, amount=Decimal("1000.00"), paid_at=local(2026, month_no, 10))
    cycles = [month(2026, m) for m in (1, 2, 3)]
    for cycle in cycles:
        cycle_close(inline=True, cycle=cycle)
    assert [Payout.objects.filter(cycle=c).count() for c in cycles] == [0, 0, 1]
    assert Payout.objects.get(cycle=cycles[2]).commission == Decimal("300.00")  # 3 × 1000 × 10%


def test_budget_check_and_statement_queries_with_an_adjustment(db, client):
    plan_load(data=PLAN)
    seller = StaffFactory(employee_no="S011", role="sales", name="韩梅梅")
    OrderFactory(staff=seller, amount=Decimal("1000.00"), paid_at=local(2026, 1, 10))
    OrderFactory(staff=seller, amount=Decimal("3000.00"), paid_at=local(2026, 2, 10))
    jan, feb = month(2026, 1), month(2026, 2)
    cycle_close(inline=True, cycle=jan)
    cycle_close(inline=True, cycle=feb)
    CycleBudget.objects.create(cycle=feb, amount=Decimal("250.00"))
    check = budget_check(cycle=feb)
    assert (check["total"], check["previous_total"], check["change"], check["over_budget"]) == (
        Decimal("300.00"),
        Decimal("100.00"),
        Decimal("200.00"),
        True,
    )
    assert check["changes"] == [
        {"staff": "韩梅梅", "before": Decimal("100.00"), "now": Decimal("300.00"), "change": Decimal("200.00")}
    ]
    payout = Payout.objects.get(cycle=feb)
    query = statement_query_ask(payout=payout, line=payout.lines.first(), question="Why 10%?", actor=seller.user)
    finance = UserFactory(username="fin2", groups=["Finance"])
    statement_query_answer(
        query=query,
        answer="Cloud servers earn 10%; a goodwill 12.50 added.",
        actor=finance,
        adjustment=Decimal("12.50"),
    )
    payout.refresh_from_db()
    assert (payout.adjustments, payout.total) == (Decimal("12.50"), Decimal("312.50"))
    assert StatementQuery.objects.get().status == "answered"
    # an adjustment survives a recompute, and the question still points at the same order's line
    asked_about = query.line.order_id
    cycle_close(inline=True, cycle=feb)
    payout.refresh_from_db()
    assert (payout.adjustments, payout.total) == (Decimal("12.50"), Decimal("312.50"))
    query.refresh_from_db()
    assert query.line is not None and query.line.order_id == asked_about
    client.force_login(finance)
    page = client.get(f"/commission/budget/{feb.pk}/").content.decode()
    assert "312.50" in page, page[page.find("budget-total") - 50 :][:300]
    client.force_login(seller.user)
    assert client.get(f"/commission/budget/{feb.pk}/").status_code == 403


PAYOUT_ADMIN = "/admin/commission/payout/"


def _close_january_and_approve_in_the_admin(client, username) -> list[str]:
    """Close January in-process, log in as finance and approve every payout from the changelist."""
    cycle_close(inline=True, cycle=month(2026, 1))
    client.force_login(UserFactory(username=username, groups=["Finance"], is_staff=True))
    ids = [str(pk) for pk in Payout.objects.values_list("pk", flat=True)]
    client.post(PAYOUT_ADMIN, {"action": "approve", "_selected_action": ids})
    return ids


def test_finance_approves_and_downloads_payroll_xlsx_and_csv_in_the_admin(db, client):
    plan_load(data=PLAN)
    for i in range(2):
        OrderFactory(
            staff=StaffFactory(employee_no=f"S02{i}", role="sales"),
            amount=Decimal("1000.00"),
            paid_at=local(2026, 1, 10),
        )
    ids = _close_january_and_approve_in_the_admin(client, "fin3")
    url = PAYOUT_ADMIN
    assert set(Payout.objects.values_list("status", flat=True)) == {"approved"}
    response = client.post(url, {"action": "payroll_xlsx", "_selected_action": ids})
    assert response["Content-Disposition"].endswith('.xlsx"')

    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.values)
    assert rows[0][:4] == ("employee_no", "name", "cycle", "plan")
    assert rows[-1][0] == "TOTAL" and rows[-1][9] == 200  # the totals row is numbers, not text
    assert set(Payout.objects.values_list("status", flat=True)) == {"exported"}
    batch = ExportBatch.objects.get()
    assert (batch.payout_count, batch.total, len(batch.checksum)) == (2, Decimal("200.00"), 64)
    client.post(url, {"action": "mark_paid", "_selected_action": ids})
    assert set(Payout.objects.values_list("status", flat=True)) == {"paid"}


def test_approved_payouts_lock_their_cycles_inputs(db, tmp_path):
    plan_load(data=PLAN)
    seller = StaffFactory(employee_no="S030", role="sales")
    OrderFactory(staff=seller, paid_at=local(2026, 1, 5))
    cycle = month(2026, 1)
    cycle_close(inline=True, cycle=cycle)
    finance = UserFactory(username="fin4", groups=["Finance"])
    payouts_approve(payouts=list(Payout.objects.filter(cycle=cycle)), actor=finance)
    path = tmp_path / "o.csv"
    path.write_text(
        "external_id,employee_no,customer_id,product_category,amount,ordered_at,paid_at\n"
        "LATE,S030,C1,x,10.00,2026-01-20 10:00,2026-01-20 10:00\n"
    )
    with pytest.raises(CommandError, match="row 2, column paid_at: falls in cycle 2026-01, which is locked"):
        call_command("import_data", "orders", str(path))
    assert not Order.objects.filter(external_id="LATE").exists()
    payouts_unlock(payouts=list(Payout.objects.filter(cycle=cycle)), actor=finance, reason="late order")
    call_command("import_data", "orders", str(path))
    assert Order.objects.filter(external_id="LATE").exists()


def test_pk_bonus_rewards_places_one_two_three_with_ties_by_employee_no(db):
    plan_load(
        data={**PLAN, "modifiers": {}, "cap": None, "pk_bonus": {"metric": "sales_amount", "prizes": [1000, 600, 300]}}
    )
    sellers = [StaffFactory(employee_no=f"S10{i}", role="sales") for i in range(4)]
    for seller, amount in zip(sellers, ["500.00", "900.00", "900.00", "100.00"]):
        OrderFactory(staff=seller, amount=Decimal(amount), paid_at=local(2026, 1, 5))
    cycle = month(2026, 1)
    cycle_close(inline=True, cycle=cycle)
    totals = {p.staff.employee_no: p.total for p in Payout.objects.filter(cycle=cycle).select_related("staff")}
    # S101 and S102 tie on 900: S101 first by employee_no; S100 third; S103 nothing
    assert totals == {
        "S101": Decimal("1090.00"),
        "S102": Decimal("690.00"),
        "S100": Decimal("350.00"),
        "S103": Decimal("10.00"),
    }
    line = PayoutLine.objects.get(payout__staff=sellers[1], kind=LineKind.PK_BONUS)
    assert (line.amount, line.label) == (Decimal("1000.00"), "Ranking bonus, place 1")


@pytest.mark.parametrize("size", [10, 80])
def test_payout_computation_query_count_is_pinned_at_two_sizes(db, size):
    plan_load(data=PLAN)
    for i in range(size):
        seller = StaffFactory(employee_no=f"Q{i:03d}", role="sales")
        OrderFactory(
            staff=seller, paid_at=local(2026, 1, 5), refunded_amount=Decimal("10.00"), refunded_at=local(2026, 2, 3)
        )
        OrderFactory(staff=seller, paid_at=local(2026, 2, 5))
    jan, feb = month(2026, 1), month(2026, 2)
    cycle_close(inline=True, cycle=jan)
    cycle_close(inline=True, cycle=feb)  # payouts with clawbacks and carried balances exist now
    with assert_num_queries(PAYOUT_QUERIES, exclude=("INSERT", 'UPDATE "commission_payout" SET')):
        cycle_payouts_compute(cycle=feb)


PAYOUT_QUERIES = 17  # with the product categories' names for the order lines


def test_payroll_csv_from_the_admin_has_a_bom_and_the_contract_columns(db, client):
    plan_load(data=PLAN)
    OrderFactory(
        staff=StaffFactory(employee_no="S040", role="sales", name="王芳"),
        amount=Decimal("1234.50"),
        paid_at=local(2026, 1, 10),
    )
    ids = _close_january_and_approve_in_the_admin(client, "fin5")
    response = client.post(PAYOUT_ADMIN, {"action": "payroll_csv", "_selected_action": ids})
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    # the same table as export_payouts --for-payroll: the contract's columns, then payroll's
    assert lines[0] == (
        "employee_no,name,cycle,plan,gross,multiplier,commission,clawback,carried_balance,total,"
        "currency,status,adjustments,carry_forward,team,plan_version"
    )
    assert (
        lines[1] == "S040,王芳,2026-01,cloud-sales,123.45,1.0,123.45,0.00,0.00,123.45,CNY,approved,0.00,0.00,客服一组,1"
    )
    assert Payout.objects.get().status == "exported"


def test_export_payouts_for_payroll_takes_approved_ones_and_records_who(db, tmp_path):
    plan_load(data=PLAN)
    for i in range(2):
        OrderFactory(staff=StaffFactory(employee_no=f"S05{i}", role="sales"), paid_at=local(2026, 1, 10))
    cycle = month(2026, 1)
    cycle_close(inline=True, cycle=cycle)
    finance = UserFactory(username="fin6", groups=["Finance"])
    payouts_approve(payouts=[Payout.objects.get(staff__employee_no="S050")], actor=finance)
    out = tmp_path / "pay.xlsx"
    with pytest.raises(CommandError, match="refused: hr6 may not payroll payout"):
        call_command(
            "export_payouts",
            cycle.name,
            "--output",
            str(out),
            "--for-payroll",
            "--user",
            UserFactory(username="hr6", groups=["HR"]).username,
        )
    call_command("export_payouts", cycle.name, "--output", str(out), "--for-payroll", "--user", "fin6")
    batch = ExportBatch.objects.get()
    assert (batch.payout_count, batch.exported_by, batch.file_format) == (1, finance, "xlsx")
    assert dict(Payout.objects.values_list("staff__employee_no", "status")) == {
        "S050": "exported",
        "S051": "calculated",
    }


def test_statement_line_references_without_constraints_still_follow_their_on_delete(db):
    # given a January payout with an order line and a staff question on it
    plan_load(data=PLAN)
    seller = StaffFactory(employee_no="S001", role="sales")
    order = OrderFactory(staff=seller, amount=Decimal("1000.00"), paid_at=local(2026, 1, 10))
    cycle = month(2026, 1)
    cycle_close(inline=True, cycle=cycle)
    payout = Payout.objects.get(cycle=cycle, staff=seller)
    line = payout.lines.get(kind=LineKind.ORDER)
    query = statement_query_ask(payout=payout, line=line, question="Which rate?", actor=seller.user)
    # when the order is deleted, then the line stays, pointing at nothing (Django's SET_NULL)
    order.delete()
    line.refresh_from_db()
    assert (line.order_id, line.amount) == (None, Decimal("100.00"))
    # and when the line itself goes, the question stays, on the whole statement
    line.delete()
    query.refresh_from_db()
    assert query.line_id is None
