"""The admin holds the matrix and the locks: what Finance could do before, and what locked rows allowed."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from commission.definitions import plan_load
from commission.models import CyclePlan, Payout
from commission.workflow import payouts_approve
from performance.appraisal.services import cycle_close, cycle_create, cycle_finalize
from performance.models import Appeal, AppealStatus, AppraisalCycle, KciRating, Staff, Ticket
from tests.factories import PLAN, OrderFactory, StaffFactory, UserFactory, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(client):
    user = UserFactory(username="fin", groups=["Finance"], is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def hr(client):
    user = UserFactory(username="hr", groups=["HR"], is_staff=True)
    client.force_login(user)
    return user


def month(m=1, **kwargs):
    return cycle_create(
        name=f"2026-{m:02d}", start=datetime.date(2026, m, 1), end=datetime.date(2026, m + 1, 1), **kwargs
    )


def test_finance_cannot_close_finalize_or_delete_cycles_nor_move_or_deactivate_staff(client, finance, agent_template):
    # given an open cycle, a closed one and a member
    open_cycle = month(2)
    closed = month(1)
    cycle_close(inline=True, cycle=closed)
    member = StaffFactory(employee_no="A1")
    url = "/admin/performance/appraisalcycle/"
    # when Finance posts every action and the delete
    for action in ("close_cycles", "finalize_cycles"):
        client.post(url, {"action": action, "_selected_action": [open_cycle.pk, closed.pk]})
    client.post(url, {"action": "delete_selected", "_selected_action": [open_cycle.pk], "post": "yes"})
    assert client.post(f"{url}{open_cycle.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"{url}{closed.pk}/close/").status_code == 403
    for action in ("deactivate", "move_team"):
        client.post("/admin/performance/staff/", {"action": action, "_selected_action": [member.pk], "team": ""})
    # then nothing changed
    assert dict(AppraisalCycle.objects.values_list("name", "state")) == {"2026-01": "review", "2026-02": "open"}
    member.refresh_from_db()
    assert member.active and member.user.is_active


def test_finance_cannot_import_or_export_orders_hr_can(client, finance):
    assert client.get("/admin/performance/order/import/").status_code == 403
    assert client.post("/admin/performance/order/process_import/", {}).status_code == 403
    assert client.get("/admin/performance/ticket/export/").status_code == 403
    client.force_login(UserFactory(username="hr2", groups=["HR"], is_staff=True))
    assert client.get("/admin/performance/order/import/").status_code == 200


def _approved_january():
    plan_load(data=PLAN)
    seller = StaffFactory(employee_no="S1", role="sales")
    order = OrderFactory(external_id="O1", staff=seller, amount=Decimal("1000.00"), paid_at=local(2026, 1, 10))
    cycle = month(1, templates=[])
    cycle_close(inline=True, cycle=cycle)
    payouts_approve(payouts=list(Payout.objects.all()), actor=UserFactory(username="f", groups=["Finance"]))
    return cycle, order


def test_the_admin_import_refuses_rows_of_a_locked_cycle_with_row_and_column(client, hr):
    _approved_january()
    body = b"external_id,employee_no,created_at\nT9,S1,2026-01-20 10:00\n"
    response = client.post(
        "/admin/performance/ticket/import/",
        {"import_file": SimpleUploadedFile("t.csv", body, content_type="text/csv"), "format": "0", "resource": "0"},
    )
    assert "falls in cycle 2026-01, which is locked" in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_admin_edit_of_a_locked_order_takes_its_refund_and_nothing_else(client, hr):
    # given an order of an approved cycle
    _cycle, order = _approved_january()
    url = f"/admin/performance/order/{order.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="refunded_amount"' in page and 'name="amount"' not in page  # only the refund is editable
    # when HR posts a refund dated in February (open): accepted
    response = client.post(
        url, {"refunded_amount": "100.00", "refunded_at_0": "2026-02-03", "refunded_at_1": "10:00:00"}, follow=True
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.amount, order.refunded_amount) == (Decimal("1000.00"), Decimal("100.00"))
    # when the refund would be dated inside the locked January: refused, nothing saved
    response = client.post(url, {"refunded_amount": "200.00", "refunded_at_0": "2026-01-20", "refunded_at_1": "10:00"})
    assert "locked" in response.content.decode()
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("100.00")
    assert order.history.first().history_user.username == "hr"


def test_a_finalized_cycle_is_read_only_and_its_ratings_and_appraisals_stay(client, hr, agent_template):
    # given a finalized cycle with a rating and an appraisal
    member = StaffFactory(employee_no="A1")
    cycle = month(1)
    cycle_close(inline=True, cycle=cycle)
    rating = KciRating.objects.create(cycle=cycle, staff=member, indicator="attitude", rating=Decimal(4))
    cycle_finalize(cycle=cycle, actor=None)
    # when HR moves its window, adds and deletes ratings, deletes an appraisal
    client.post(
        f"/admin/performance/appraisalcycle/{cycle.pk}/change/",
        {"name": cycle.name, "start": "2026-03-01", "end": "2026-04-01", "templates": [agent_template.pk]},
    )
    added = client.post(
        "/admin/performance/kcirating/add/",
        {"cycle": cycle.pk, "staff": member.pk, "indicator": "attitude", "rating": "5"},
    )
    assert "finalized" in added.content.decode()
    assert client.post(f"/admin/performance/kcirating/{rating.pk}/delete/", {"post": "yes"}).status_code == 403
    appraisal = cycle.appraisals.get()
    assert client.post(f"/admin/performance/appraisal/{appraisal.pk}/delete/", {"post": "yes"}).status_code == 403
    # then nothing moved
    cycle.refresh_from_db()
    assert (cycle.start, cycle.end, cycle.state) == (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), "finalized")
    assert list(KciRating.objects.values_list("rating", flat=True)) == [Decimal("4.00")]
    assert cycle.appraisals.count() == 1


def test_a_decided_appeal_cannot_be_set_back_to_open(client, hr, agent_template):
    StaffFactory(employee_no="A1")
    cycle = month(1)
    cycle_close(inline=True, cycle=cycle)
    appeal = Appeal.objects.create(appraisal=cycle.appraisals.get(), reason="x")
    url = f"/admin/performance/appeal/{appeal.pk}/change/"
    client.post(url, {"status": "rejected", "decision": "no"})
    assert Appeal.objects.get().status == AppealStatus.REJECTED
    client.post(url, {"status": "open", "decision": ""})
    assert (Appeal.objects.get().status, Appeal.objects.get().decision) == (AppealStatus.REJECTED, "no")


def test_a_cycle_added_in_the_admin_gets_the_plans_and_checks_of_create_cycle(client, hr):
    # given an active commission plan and a seller
    plan_load(data=PLAN)
    OrderFactory(staff=StaffFactory(employee_no="S1", role="sales"), paid_at=local(2026, 3, 5))
    # when HR adds the cycle in the admin
    response = client.post(
        "/admin/performance/appraisalcycle/add/",
        {"name": "2026-03", "start": "2026-03-01", "end": "2026-04-01", "appeal_days": "7"},
        follow=True,
    )
    assert "is open over [2026-03-01, 2026-04-01)" in response.content.decode()
    cycle = AppraisalCycle.objects.get(name="2026-03")
    # then its plan is pinned, and its close pays the seller
    assert CyclePlan.objects.filter(cycle=cycle).count() == 1
    cycle_close(inline=True, cycle=cycle)
    assert Payout.objects.get(cycle=cycle).total == Decimal("100.00")
    # and the service's refusals are the form's errors
    response = client.post(
        "/admin/performance/appraisalcycle/add/",
        {"name": "2026-03", "start": "2026-03-01", "end": "2026-04-01", "appeal_days": "7"},
    )
    assert response.status_code == 200 and AppraisalCycle.objects.count() == 1


def test_the_admin_add_form_refuses_two_plans_for_one_role_naming_both_and_writes_nothing(client, hr):
    # given two active plans that both pay role "sales"
    plan_load(data=PLAN)
    plan_load(data={**PLAN, "code": "support-sales", "name": "Support sales", "roles": ["sales"]})
    # when HR adds a cycle in the admin (it pins every active plan, as create_cycle does)
    response = client.post(
        "/admin/performance/appraisalcycle/add/",
        {"name": "2026-03", "start": "2026-03-01", "end": "2026-04-01", "appeal_days": "7"},
    )
    # then the form says which plans and which role, and no cycle and no pinned plan is written
    assert response.status_code == 200
    assert "Plans cloud-sales and support-sales both pay role sales" in response.content.decode()
    assert not AppraisalCycle.objects.exists() and not CyclePlan.objects.exists()


def test_finance_sees_no_import_door_on_staff_and_cannot_edit_a_member(client, finance):
    member = StaffFactory(employee_no="A1")
    response = client.post(
        f"/admin/performance/staff/{member.pk}/change/",
        {"employee_no": "A1", "name": "x", "team": member.team_id, "role": "manager", "active": "on"},
    )
    assert response.status_code == 403
    assert Staff.objects.get().role == "agent"
