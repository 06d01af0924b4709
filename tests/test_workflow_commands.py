"""The contract's workflow commands act as the named login, through the matrix; refused: non-zero, nothing changed."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from performance.appraisal.services import cycle_close, cycle_create
from performance.models import AppraisalCycle, CalendarDay, CycleState, ImportBatch
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_finalize_cycle_acts_as_the_login(agent_template):
    StaffFactory(employee_no="A1")
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    UserFactory(username="fin", groups=["Finance"])
    hr = UserFactory(username="hr", groups=["HR"])
    with pytest.raises(CommandError, match="refused: fin may not finalize appraisalcycle"):
        call_command("finalize_cycle", "2026-01", "--user", "fin")
    assert AppraisalCycle.objects.get().state == CycleState.REVIEW
    with pytest.raises(CommandError, match="no login named nobody"):
        call_command("finalize_cycle", "2026-01", "--user", "nobody")
    call_command("finalize_cycle", "2026-01", "--user", "hr")
    cycle.refresh_from_db()
    assert (cycle.state, cycle.history.first().history_user) == (CycleState.FINALIZED, hr)


def test_load_holidays_enters_the_official_days_and_make_up_working_days_once(capsys):
    UserFactory(username="hr", groups=["HR"])
    call_command("load_holidays", "--year", "2026", "--user", "hr")
    days = dict(CalendarDay.objects.values_list("date", "working"))
    # National Day 1–7 October 2026; make-up working days Sunday 20 September and Saturday 10 October
    assert all(days[datetime.date(2026, 10, d)] is False for d in range(1, 8))
    assert days[datetime.date(2026, 9, 20)] is True and days[datetime.date(2026, 10, 10)] is True
    assert CalendarDay.objects.get(date=datetime.date(2026, 10, 1)).name == "国庆节"
    assert "make-up working days entered" in capsys.readouterr().out
    # again: nothing new; each run is an import batch
    count = CalendarDay.objects.count()
    call_command("load_holidays", "--year", "2026")
    assert CalendarDay.objects.count() == count
    assert list(ImportBatch.objects.values_list("kind", "door")) == [("holidays", "load_holidays")] * 2


def test_load_holidays_refuses_a_login_without_the_permission_and_a_year_without_data():
    UserFactory(username="fin", groups=["Finance"])
    with pytest.raises(CommandError, match="refused"):
        call_command("load_holidays", "--year", "2026", "--user", "fin")
    with pytest.raises(CommandError, match="has no holidays for 1990"):
        call_command("load_holidays", "--year", "1990")
    assert not CalendarDay.objects.exists()
