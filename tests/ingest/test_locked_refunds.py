"""A refund of a locked cycle's order still arrives, and is clawed back where it is dated; nothing else moves."""

import datetime
import os
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from commission.definitions import plan_load
from commission.models import LineKind, Payout, PayoutLine
from commission.workflow import payouts_approve, payouts_mark_paid, payroll_export
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import ImportBatch, Order
from tests.factories import PLAN, StaffFactory, UserFactory

HEADER = "external_id,employee_no,customer_id,product_category,amount,ordered_at,paid_at,refunded_amount,refunded_at\n"


def write(tmp_path, name, *rows):
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)


def september_paid(tmp_path):
    """Sellers with September orders; September closed, approved, exported and paid; October open."""
    plan_load(data=PLAN)
    StaffFactory(employee_no="S1", role="sales")
    StaffFactory(employee_no="S2", role="sales")
    call_command(
        "import_data",
        "orders",
        write(
            tmp_path,
            "sep.csv",
            "O1,S1,C1,cloud_server,1000.00,2026-09-10 09:00,2026-09-10 10:00,,",
            "O2,S2,C2,cloud_server,2000.00,2026-09-11 09:00,2026-09-11 10:00,,",
        ),
    )
    sep = cycle_create(name="2026-09", start=datetime.date(2026, 9, 1), end=datetime.date(2026, 10, 1), templates=[])
    oct_ = cycle_create(name="2026-10", start=datetime.date(2026, 10, 1), end=datetime.date(2026, 11, 1), templates=[])
    cycle_close(inline=True, cycle=sep)
    fin = UserFactory(username="fin", groups=["Finance"])
    payouts_approve(payouts=list(Payout.objects.filter(cycle=sep)), actor=fin)
    payroll_export(cycle=sep, actor=fin, file_format="csv")
    payouts_mark_paid(payouts=list(Payout.objects.filter(cycle=sep)), actor=fin)
    return sep, oct_


def refunds_clawed_back_in_october(tmp_path):
    # given September paid out
    sep, oct_ = september_paid(tmp_path)
    before = list(Payout.objects.filter(cycle=sep).order_by("pk").values_list("pk", "total", "clawback", "status"))
    # when September's refunds arrive in October, through the import command (the whole rows, as exported)
    call_command(
        "import_data",
        "orders",
        write(
            tmp_path,
            "refunds.csv",
            "O1,S1,C1,cloud_server,1000.00,2026-09-10 09:00,2026-09-10 10:00,400.00,2026-10-05 10:00",
            "O2,S2,C2,cloud_server,2000.00,2026-09-11 09:00,2026-09-11 10:00,,",
        ),
    )
    cycle_close(inline=True, cycle=oct_)
    # then October's payout has the clawback line: − 400 × 10% × 1 = −40.00; September is unchanged
    line = PayoutLine.objects.get(payout__cycle=oct_, kind=LineKind.CLAWBACK)
    assert (line.payout.staff.employee_no, line.amount, line.source_cycle_id) == ("S1", Decimal("-40.00"), sep.pk)
    assert Payout.objects.get(cycle=oct_, staff__employee_no="S1").clawback == Decimal("-40.00")
    after = list(Payout.objects.filter(cycle=sep).order_by("pk").values_list("pk", "total", "clawback", "status"))
    assert after == before
    # when a September order's amount changes: refused with its row and column, nothing written
    with pytest.raises(CommandError, match=r"row 2, column amount: cannot change: the order belongs to cycle 2026-09"):
        call_command(
            "import_data",
            "orders",
            write(tmp_path, "bad.csv", "O2,S2,C2,cloud_server,2500.00,2026-09-11 09:00,2026-09-11 10:00,,"),
        )
    assert Order.objects.get(external_id="O2").amount == Decimal("2000.00")
    # and a new order, or a refund, dated in September: refused with their row and column
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_data",
            "orders",
            write(
                tmp_path,
                "late.csv",
                "O3,S2,C3,cloud_server,10.00,2026-09-20 09:00,2026-09-20 10:00,,",
                "O2,S2,C2,cloud_server,2000.00,2026-09-11 09:00,2026-09-11 10:00,5.00,2026-09-30 10:00",
            ),
        )
    assert "row 2, column paid_at: falls in cycle 2026-09" in str(refused.value)
    assert "row 3, column refunded_at: falls in cycle 2026-09" in str(refused.value)
    assert not Order.objects.filter(external_id="O3").exists()
    assert ImportBatch.objects.filter(kind="orders").count() == 2  # the two imports that went through


@pytest.mark.django_db
def test_refunds_of_a_locked_cycle_are_clawed_back_in_the_cycle_of_the_refund(tmp_path):
    refunds_clawed_back_in_october(tmp_path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the contract's scenario on PostgreSQL"
)
def test_on_postgresql_sep_refunds_in_october_are_clawed_back_and_sep_is_unchanged(tmp_path):
    refunds_clawed_back_in_october(tmp_path)
