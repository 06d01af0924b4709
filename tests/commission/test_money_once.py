"""Money moves exactly once: approvals, holds, payroll exports, payments and adjustments."""

import csv
import datetime
import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from commission.definitions import plan_load
from commission.models import ExportBatch, LineKind, Payout, PayoutLine, PayoutStatus, StatementQuery
from commission.statements import statement_query_answer, statement_query_ask
from commission.workflow import payout_adjust, payouts_approve, payouts_hold, payroll_export
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import AppraisalCycle, CycleState
from tests.factories import PLAN, OrderFactory, StaffFactory, UserFactory, local

pytestmark = pytest.mark.django_db


def closed_january(sellers=2):
    plan_load(data=PLAN)
    for i in range(sellers):
        OrderFactory(staff=StaffFactory(employee_no=f"S{i:02d}", role="sales"), paid_at=local(2026, 1, 10))
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1), templates=[])
    cycle_close(inline=True, cycle=cycle)
    return cycle


def finance(name="fin"):
    return UserFactory(username=name, groups=["Finance"], is_staff=True)


def test_approving_leaves_held_payouts_held_and_says_so(tmp_path):
    # given two calculated payouts, one of them on hold
    cycle = closed_january()
    fin = finance()
    held = Payout.objects.get(staff__employee_no="S00")
    payouts_hold(payouts=[held], actor=fin, reason="check the order")
    # when finance approves both
    result = payouts_approve(payouts=list(Payout.objects.filter(cycle=cycle)), actor=fin)
    # then the held one stays held and is named
    assert (result.moved, [p.staff.employee_no for p in result.held]) == (1, ["S00"])
    assert dict(Payout.objects.values_list("staff__employee_no", "status")) == {"S00": "on_hold", "S01": "approved"}


def test_approve_payouts_command_lists_held_ones_and_refuses_hr_with_nothing_changed(capsys):
    cycle = closed_january()
    fin = finance()
    payouts_hold(payouts=[Payout.objects.get(staff__employee_no="S01")], actor=fin, reason="disputed")
    UserFactory(username="hr", groups=["HR"], is_staff=True)
    # when HR tries: refused, non-zero exit, nothing changed
    with pytest.raises(CommandError, match="refused: hr may not approve payout"):
        call_command("approve_payouts", cycle.name, "--user", "hr")
    assert set(Payout.objects.values_list("status", flat=True)) == {"calculated", "on_hold"}
    # when finance approves: the calculated one is approved, the held one listed
    call_command("approve_payouts", cycle.name, "--user", "fin")
    out = capsys.readouterr().out
    assert "approved 1 payouts of 2026-01" in out and "S01 cloud-sales: disputed" in out


def test_approval_is_refused_while_the_cycle_is_closing():
    cycle = closed_january()
    AppraisalCycle.objects.filter(pk=cycle.pk).update(state=CycleState.CLOSING)
    with pytest.raises(ValidationError, match="is Closing"):
        payouts_approve(payouts=list(Payout.objects.all()), actor=finance())
    assert set(Payout.objects.values_list("status", flat=True)) == {"calculated"}


def test_a_close_is_refused_once_anything_is_approved():
    cycle = closed_january()
    payouts_approve(payouts=[Payout.objects.first()], actor=finance())
    with pytest.raises(ValidationError, match="approved payouts"):
        cycle_close(inline=True, cycle=cycle)
    assert AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.REVIEW


def test_payroll_export_happens_once_and_the_batch_downloads_again_byte_for_byte(tmp_path, client):
    # given approved payouts
    cycle = closed_january()
    fin = finance()
    payouts_approve(payouts=list(Payout.objects.all()), actor=fin)
    first, second = tmp_path / "1.csv", tmp_path / "2.csv"
    # when the export runs twice
    call_command("export_payouts", cycle.name, "--output", str(first), "--for-payroll", "--user", "fin")
    call_command("export_payouts", cycle.name, "--output", str(second), "--for-payroll", "--user", "fin")
    # then the second writes the header row only, and one batch holds every payout
    assert len(list(csv.reader(first.read_text(encoding="utf-8-sig").splitlines()))) == 3
    assert len(list(csv.reader(second.read_text(encoding="utf-8-sig").splitlines()))) == 1
    batch = ExportBatch.objects.get()
    assert (batch.payout_count, set(Payout.objects.values_list("status", flat=True))) == (2, {"exported"})
    # and the batch downloads again: the same bytes, the same SHA-256, nothing exported again
    client.force_login(fin)
    response = client.get(f"/admin/commission/exportbatch/{batch.pk}/download/")
    assert response.content == first.read_bytes()
    assert hashlib.sha256(response.content).hexdigest() == batch.checksum
    assert ExportBatch.objects.count() == 1


def test_payroll_export_needs_a_login_and_refuses_one_that_may_not(tmp_path):
    cycle = closed_january()
    payouts_approve(payouts=list(Payout.objects.all()), actor=finance())
    out = tmp_path / "p.csv"
    with pytest.raises(CommandError, match="--for-payroll needs --user"):
        call_command("export_payouts", cycle.name, "--output", str(out), "--for-payroll")
    UserFactory(username="gone", groups=["Finance"], is_active=False)
    with pytest.raises(CommandError, match="not active"):
        call_command("export_payouts", cycle.name, "--output", str(out), "--for-payroll", "--user", "gone")
    assert not ExportBatch.objects.exists()
    assert set(Payout.objects.values_list("status", flat=True)) == {"approved"}


def test_mark_paid_command_pays_exported_payouts():
    cycle = closed_january()
    fin = finance()
    payouts_approve(payouts=list(Payout.objects.all()), actor=fin)
    payroll_export(cycle=cycle, actor=fin, file_format="csv")
    call_command("mark_paid", cycle.name, "--user", "fin")
    assert set(Payout.objects.values_list("status", flat=True)) == {"paid"}
    assert [h.history_user for h in Payout.objects.first().history.order_by("history_date")][-1] == fin


@pytest.mark.parametrize("status", ["approved", "exported", "paid"])
def test_finance_cannot_delete_payouts_past_approval_or_payroll_batches(client, status):
    # given a payout in the state and a payroll batch
    cycle = closed_january(sellers=1)
    fin = finance()
    payout = Payout.objects.get()
    payouts_approve(payouts=[payout], actor=fin)
    batch, _content = payroll_export(cycle=cycle, actor=fin, file_format="csv")
    Payout.objects.update(status=status)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    for user in (fin, root):
        client.force_login(user)
        # when they try every delete door
        assert client.post(f"/admin/commission/payout/{payout.pk}/delete/", {"post": "yes"}).status_code == 403
        client.post(
            "/admin/commission/payout/", {"action": "delete_selected", "_selected_action": [payout.pk], "post": "yes"}
        )
        assert client.post(f"/admin/commission/exportbatch/{batch.pk}/delete/", {"post": "yes"}).status_code == 403
    # then nothing is gone, and the cycle stays locked
    assert Payout.objects.filter(pk=payout.pk, status=status).exists() and ExportBatch.objects.exists()


def test_an_answer_posted_twice_adds_its_adjustment_once():
    cycle = closed_january(sellers=1)
    payout = Payout.objects.get(cycle=cycle)
    query = statement_query_ask(payout=payout, line=None, question="Why?", actor=payout.staff.user)
    fin = finance()
    statement_query_answer(query=query, answer="Goodwill", actor=fin, adjustment=Decimal("10.00"))
    with pytest.raises(ValidationError, match="answered already"):
        statement_query_answer(query=query, answer="Goodwill", actor=fin, adjustment=Decimal("10.00"))
    payout.refresh_from_db()
    assert (payout.adjustments, PayoutLine.objects.filter(kind=LineKind.ADJUSTMENT).count()) == (Decimal("10.00"), 1)


def test_a_finance_payee_cannot_answer_adjust_or_approve_their_own_payout():
    # given a Finance user who is also a seller with a payout, and their own question on it
    plan_load(data=PLAN)
    me = StaffFactory(employee_no="F1", role="sales", user=UserFactory(username="f1", groups=["Staff", "Finance"]))
    OrderFactory(staff=me, paid_at=local(2026, 1, 10))
    cycle = cycle_create(name="m", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1), templates=[])
    cycle_close(inline=True, cycle=cycle)
    payout = Payout.objects.get(staff=me)
    query = statement_query_ask(payout=payout, line=None, question="More?", actor=me.user)
    # when they answer with an adjustment, adjust, or approve: each refused
    with pytest.raises(PermissionDenied, match="own payout"):
        statement_query_answer(query=query, answer="Yes", actor=me.user, adjustment=Decimal("500.00"))
    with pytest.raises(PermissionDenied, match="own payout"):
        payout_adjust(payout=payout, amount=Decimal("500.00"), reason="bonus", actor=me.user)
    with pytest.raises(PermissionDenied, match="own payout"):
        payouts_approve(payouts=[payout], actor=me.user)
    # then nothing changed
    payout.refresh_from_db()
    assert (payout.status, payout.adjustments, StatementQuery.objects.get().status) == (
        PayoutStatus.CALCULATED,
        Decimal("0.00"),
        "open",
    )


def test_the_author_of_an_adjustment_does_not_approve_that_payout(settings):
    cycle = closed_january(sellers=1)
    payout = Payout.objects.get(cycle=cycle)
    author, other = finance("fin-a"), finance("fin-b")
    payout_adjust(payout=payout, amount=Decimal("5.00"), reason="rounding", actor=author)
    with pytest.raises(PermissionDenied, match="added an adjustment"):
        payouts_approve(payouts=[payout], actor=author)
    assert payouts_approve(payouts=[payout], actor=other).moved == 1
    # the rule is a setting, on by default
    settings.SEPARATION_OF_DUTIES = {"OWN_PAYOUT": True, "ADJUSTER_APPROVES": False}
    Payout.objects.update(status=PayoutStatus.CALCULATED)
    assert payouts_approve(payouts=[payout], actor=author).moved == 1
