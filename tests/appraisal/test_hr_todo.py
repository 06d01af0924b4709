"""The HR overview's to-do lists missing KCI ratings only when there are some, with the way to rate them."""

import datetime
from decimal import Decimal

import pytest

from performance.appraisal.reviews import kci_rate
from performance.appraisal.services import cycle_create
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_missing_ratings_are_a_to_do_only_while_some_are_missing(client, agent_template):
    # given an open cycle with one member not yet rated
    member = StaffFactory(employee_no="T001")
    cycle = cycle_create(name="todo", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    client.force_login(UserFactory(username="hr-todo", groups=["HR"]))
    # when
    page = client.get(f"/hr/?cycle={cycle.pk}").content.decode()
    # then the to-do names the missing rating and links to where managers rate
    assert "1 KCI rating missing" in page and f"/team/?cycle={cycle.pk}" in page
    # and once rated, the line is gone
    kci_rate(cycle=cycle, staff=member, indicator="attitude", rating=Decimal("4"))
    assert "KCI rating" not in client.get(f"/hr/?cycle={cycle.pk}").content.decode()
