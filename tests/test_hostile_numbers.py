"""Hostile numbers at every form that becomes a Decimal or Fraction: refused in milliseconds.

Before, ``item_N=1e999999999`` on the QA form became an exact fraction with a billion digits
before its range check (hours of CPU), and ``NaN`` answered 500; the calibration and KCI
forms did the same.
"""

import datetime
import time

import pytest

from performance.appraisal.services import cycle_close, cycle_create
from performance.models import (
    Appraisal,
    CalibrationRound,
    CalibrationScore,
    Indicator,
    Inspection,
    InspectionScore,
    KciRating,
    Scorecard,
    Ticket,
)
from performance.qa.sampling import qa_sample
from tests.factories import StaffFactory, TicketFactory, UserFactory, local

pytestmark = pytest.mark.django_db

HOSTILE = ["1e999999999", "-1e999999999", "NaN", "Infinity", "-Infinity", "sNaN", "1e-999999999", "1" * 5000]
FAST = 0.5  # CPU seconds a refusal may take, far above what it does take (a few ms)


def timed_post(client, url, data):
    """The response and the CPU time this process spent on it: what a billion-digit number would burn,
    unaffected by other processes sharing the machine (wall-clock time is)."""
    started = time.process_time()
    response = client.post(url, data)
    return response, time.process_time() - started


@pytest.fixture
def inspector(client):
    member = StaffFactory(employee_no="Q1", user=UserFactory(username="qq1", groups=["Staff", "QA"]))
    client.force_login(member.user)
    return member


@pytest.mark.parametrize("value", HOSTILE)
def test_the_qa_inspection_form_refuses_hostile_numbers_quickly(client, inspector, value):
    # given a pending inspection in the inspector's queue
    agent = StaffFactory(employee_no="A1")
    Ticket.objects.bulk_create(
        Ticket(external_id=f"T{i}", staff=agent, created_at=local(2026, 1, 5, 9 + i % 8)) for i in range(30)
    )
    qa_sample(start=datetime.date(2026, 1, 5), end=datetime.date(2026, 1, 12), seed="h")
    inspection = Inspection.objects.filter(inspector=inspector).order_by("sampled_at", "id").first()
    item = inspection.scorecard.items.first()
    # when the inspector posts a hostile score
    response, took = timed_post(client, "/qa/", {"inspection": inspection.pk, f"item_{item.pk}": value})
    # then the form answers with an error, at once, and nothing was written
    assert response.status_code == 200 and took < FAST
    assert response.context["errors"], response.content.decode()[:500]
    inspection.refresh_from_db()
    assert inspection.status == "pending" and not InspectionScore.objects.exists()


@pytest.mark.parametrize("value", HOSTILE)
def test_the_qa_calibration_form_refuses_hostile_numbers_quickly(client, inspector, value):
    # given a calibration ticket waiting for the inspector
    TicketFactory(external_id="CAL1", created_at=local(2026, 1, 6, 10))
    card = Scorecard.objects.get(code="default")
    rnd = CalibrationRound.objects.create(name="Jan", scorecard=card)
    rnd.tickets.set(Ticket.objects.filter(external_id="CAL1"))
    ticket = rnd.tickets.get()
    item = card.items.first()
    # when
    response, took = timed_post(client, "/qa/", {"calibration": f"{rnd.pk}-{ticket.pk}", f"item_{item.pk}": value})
    # then
    assert response.status_code == 200 and took < FAST
    assert response.context["errors"]
    assert not CalibrationScore.objects.exists()


@pytest.fixture
def kci_setup(client, agent_template):
    manager = StaffFactory(
        employee_no="M1", role="manager", user=UserFactory(username="m1", groups=["Staff", "Manager"])
    )
    member = StaffFactory(employee_no="A1", manager=manager, team=manager.team)
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    client.force_login(manager.user)
    return cycle, member


@pytest.mark.parametrize("value", HOSTILE)
def test_the_kci_form_refuses_hostile_ratings_quickly(client, kci_setup, value):
    cycle, member = kci_setup
    # when the manager posts a hostile rating
    response, took = timed_post(client, f"/team/{cycle.pk}/rate/{member.pk}/", {"rating_attitude": value})
    # then
    assert response.status_code == 200 and took < FAST
    assert response.context["errors"]
    assert not KciRating.objects.exists()


@pytest.mark.parametrize("value", ["1e999999999", "NaN", "Infinity"])
def test_the_admin_calibration_of_a_result_refuses_hostile_scores(client, agent_template, value):
    # given a closed cycle with one result, and HR in the admin
    member = StaffFactory(employee_no="A1")
    for i in range(6):
        TicketFactory(staff=member, created_at=local(2026, 1, 3 + i, 10), rating=5)
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    appraisal = Appraisal.objects.get()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    # when a calibrated score is posted
    response, took = timed_post(
        client,
        f"/admin/performance/appraisal/{appraisal.pk}/change/",
        {"override_score": value, "override_grade": "good", "override_reason": "x"},
    )
    # then the form shows an error and the result is unchanged
    assert response.status_code == 200 and took < FAST
    assert response.context["adminform"].form.errors
    appraisal.refresh_from_db()
    assert appraisal.override_score is None


@pytest.mark.parametrize("value", ["1e999999999", "NaN", "Infinity"])
def test_a_scoring_rule_parameter_is_refused_quickly_in_the_admin(client, agent_template, value):
    # given an indicator of a template, and HR in the admin
    indicator = Indicator.objects.get(code="frt")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    data = {
        "section": indicator.section_id,
        "code": "frt",
        "name": "",
        "metric": indicator.metric,
        "weight": "50",
        "rule": "linear",
        "params": f'{{"floor": "{value}", "target": 0.85}}',
        "position": 0,
    }
    # when
    response, took = timed_post(client, f"/admin/performance/indicator/{indicator.pk}/change/", data)
    # then
    assert took < FAST
    indicator.refresh_from_db()
    assert indicator.params["floor"] != value
