"""Admin changelists: constant queries per page at two table sizes; imports are all or nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from commission.definitions import plan_load
from commission.models import Payout
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import Appraisal, AppraisalCycle, CalendarDay, Complaint, CycleState, Ticket
from tests.factories import PLAN, ComplaintFactory, OrderFactory, StaffFactory, TicketFactory, UserFactory, local
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def populate(n):
    staff = [StaffFactory() for _ in range(3)]
    for i in range(n):
        member = staff[i % 3]
        TicketFactory(staff=member, created_at=local(2026, 1, 1 + i % 28, 10))
        OrderFactory(staff=member, paid_at=local(2026, 1, 1 + i % 28, 11))
        ComplaintFactory(staff=member, handler=member)


# on PostgreSQL the big tables ask the planner for an estimated count first (one more statement);
# every admin page reads the login's groups once, for the permission matrix's role rules
CHANGELIST_QUERIES = {
    "ticket": {"sqlite": 6, "postgresql": 7},  # ratings 1–5 are fixed choices: no DISTINCT over tickets
    "order": {"sqlite": 7, "postgresql": 8},
    "complaint": {"sqlite": 6, "postgresql": 7},
    "inspection": {"sqlite": 6, "postgresql": 7},
    "staff": 8,
}


@pytest.mark.parametrize("rows", [5, 60])
@pytest.mark.parametrize("model", sorted(CHANGELIST_QUERIES))
def test_changelist_query_count_is_pinned_at_two_sizes(admin_client, model, rows):
    populate(rows)
    with assert_num_queries(CHANGELIST_QUERIES[model]):
        response = admin_client.get(f"/admin/performance/{model}/")
    assert response.status_code == 200


def test_a_changelist_builds_its_headers_once_and_every_row_still_carries_their_labels(admin_client, monkeypatch):
    # given unfold's header builder, counted, behind the project's build-once shim (common/admin.py)
    from django.utils.html import escape
    from unfold.templatetags import unfold_list

    from performance.common.admin import _headers_once

    build, built = unfold_list.result_headers.__wrapped__, []

    def counted(cl):
        built.append(cl)
        return build(cl)

    monkeypatch.setattr(unfold_list, "result_headers", _headers_once(counted))
    populate(5)
    # when the complaints list of 5 rows is drawn
    page = admin_client.get("/admin/performance/complaint/").content.decode()
    # then the headers were built once, not once per row, and each row's cells carry every column's label
    assert len(built) == 1
    labels = [str(h["text"]) for h in build(built[0]) if str(h["text"]).strip() and "<" not in str(h["text"])]
    assert labels and all(page.count(f'data-label="{escape(label)}"') == 5 for label in labels)


@pytest.mark.parametrize(("size", "month"), [(3, 1), (30, 2)])
def test_payout_changelist_with_totals_has_a_pinned_query_count(admin_client, size, month):
    plan_load(data=PLAN)
    for _ in range(size):
        OrderFactory(paid_at=local(2026, month, 5))
    cycle = cycle_create(
        name=f"m{month}", start=datetime.date(2026, month, 1), end=datetime.date(2026, month + 1, 1), templates=[]
    )
    cycle_close(inline=True, cycle=cycle)
    with assert_num_queries(PAYOUT_CHANGELIST_QUERIES):
        response = admin_client.get(f"/admin/commission/payout/?cycle__id__exact={cycle.pk}")
    assert response.status_code == 200
    assert response.context["totals"]["total"] == sum(
        Payout.objects.filter(cycle=cycle).values_list("total", flat=True), Decimal(0)
    )


PAYOUT_CHANGELIST_QUERIES = 9


def test_admin_ticket_import_rolls_back_every_row_when_one_fails(admin_client):
    StaffFactory(employee_no="E001")
    csv_body = b"external_id,employee_no,created_at\nT1,E001,2026-01-05 10:00\nT2,NOBODY,2026-01-05 10:00\n"

    response = admin_client.post(
        "/admin/performance/ticket/import/",
        {
            "import_file": SimpleUploadedFile("t.csv", csv_body, content_type="text/csv"),
            "format": "0",
            "resource": "0",
        },
    )
    assert response.status_code == 200
    assert "unknown employee_no" in response.content.decode()
    assert not Ticket.objects.exists()


def test_estimated_count_paginator_is_bounded_for_filtered_lists(admin_client):
    populate(5)
    response = admin_client.get("/admin/performance/ticket/?channel__exact=chat")
    assert response.context["cl"].result_count == 5


def test_cycle_actions_finalize_and_refuse_reopening_without_a_reason(admin_client, agent_template):
    cycle = cycle_create(name="act", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    url = "/admin/performance/appraisalcycle/"
    admin_client.post(url, {"action": "finalize_cycles", "_selected_action": [cycle.pk]})
    assert AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.FINALIZED
    response = admin_client.post(
        url, {"action": "reopen_cycles", "_selected_action": [cycle.pk], "reason": ""}, follow=True
    )
    assert "Reopening needs a reason." in response.content.decode()
    admin_client.post(url, {"action": "reopen_cycles", "_selected_action": [cycle.pk], "reason": "late KCI"})
    assert AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.REVIEW


def test_holidays_import_in_the_admin_and_due_times_follow(admin_client):
    complaint = ComplaintFactory(priority="urgent", received_at=local(2026, 10, 1, 10))  # 2 working hours
    body = "date,kind,name,calendar\n2026-10-01,holiday,国庆节,Standard\n2026-10-02,holiday,国庆节,\n".encode()
    response = admin_client.post(
        "/admin/performance/calendarday/import/",
        {"import_file": SimpleUploadedFile("h.csv", body, content_type="text/csv"), "format": "0", "resource": "0"},
    )
    assert response.status_code == 200 and "confirm" in response.content.decode().lower()
    form = response.context["confirm_form"]
    response = admin_client.post("/admin/performance/calendarday/process_import/", form.initial, follow=True)
    assert CalendarDay.objects.filter(working=False).count() == 2
    complaint.refresh_from_db()
    # Thu 1 and Fri 2 are holidays: the clock starts Monday 5th 09:00
    assert complaint.first_response_due == local(2026, 10, 5, 11)
    assert Complaint.objects.count() == 1


def test_the_close_list_action_asks_first_on_the_same_page_and_without_a_broker_says_closed(
    admin_client, agent_template
):
    # given: an open cycle that has not ended yet
    cycle = cycle_create(name="early", start=datetime.date(2026, 1, 1), end=datetime.date(2099, 2, 1))
    url = "/admin/performance/appraisalcycle/"
    # when: the list action is chosen
    response = admin_client.post(url, {"action": "close_cycles", "_selected_action": [cycle.pk]}, follow=True)
    # then: the confirmation page, with the not-ended warning; nothing closed yet
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/admin/performance/appraisalcycle/close/?ids={cycle.pk}"
    assert "This cycle runs until 2099-02-01" in page and 'id="confirm-close"' in page
    assert AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.OPEN
    # when: yes (no broker: the close runs here and now)
    response = admin_client.post("/admin/performance/appraisalcycle/close/", {"ids": str(cycle.pk)}, follow=True)
    # then: one honest message that it closed, not "handed to the workers"
    page = response.content.decode()
    assert AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.REVIEW
    assert "early closed: 0 members scored" in page and "handed to the workers" not in page


def test_a_calibration_without_a_reason_shows_the_error_and_no_success(admin_client, agent_template):
    # given
    member = StaffFactory(employee_no="E9")
    for day in range(6):
        TicketFactory(staff=member, created_at=local(2026, 1, 3 + day, 10), rating=5)
    cycle = cycle_create(name="cal", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    appraisal = Appraisal.objects.get(staff=member)
    url = f"/admin/performance/appraisal/{appraisal.pk}/change/"
    form = {
        "override_score": "80",
        "override_grade": "A+",
        "override_reason": "",
        "sections-TOTAL_FORMS": "0",
        "sections-INITIAL_FORMS": "0",
        "indicators-TOTAL_FORMS": "0",
        "indicators-INITIAL_FORMS": "0",
    }
    # when
    response = admin_client.post(url, form, follow=True)
    # then: errors beside the fields, no "changed successfully", nothing written
    page = response.content.decode()
    assert "A calibration needs a reason." in page
    assert "Select a valid choice. A+ is not one of the available choices." in page
    assert "successfully" not in page
    appraisal.refresh_from_db()
    assert appraisal.override_score is None
