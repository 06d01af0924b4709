import datetime

import pytest

from performance.appraisal.scheduling import cycles_tick, window_for
from performance.models import AppraisalCycle, CycleState
from tests.factories import local


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2026, 2, 1), ("2026-02-H1", datetime.date(2026, 2, 1), datetime.date(2026, 2, 16))),
        (datetime.date(2026, 2, 16), ("2026-02-H2", datetime.date(2026, 2, 16), datetime.date(2026, 3, 1))),
        (datetime.date(2026, 12, 31), ("2026-12-H2", datetime.date(2026, 12, 16), datetime.date(2027, 1, 1))),
    ],
)
def test_half_monthly_cycles_start_on_the_1st_and_16th(day, expected):
    assert window_for("half-monthly", day) == expected


def test_monthly_and_quarterly_windows():
    assert window_for("monthly", datetime.date(2026, 12, 5)) == (
        "2026-12",
        datetime.date(2026, 12, 1),
        datetime.date(2027, 1, 1),
    )
    assert window_for("quarterly", datetime.date(2026, 5, 5)) == (
        "2026-Q2",
        datetime.date(2026, 4, 1),
        datetime.date(2026, 7, 1),
    )


@pytest.mark.django_db
def test_tick_opens_the_current_cycle_once_and_closes_after_the_grace(
    settings, agent_template, django_capture_on_commit_callbacks
):
    settings.APPRAISAL = {**settings.APPRAISAL, "AUTO_OPEN_FREQUENCY": "half-monthly", "CLOSE_GRACE_HOURS": 48}
    with django_capture_on_commit_callbacks(execute=True):
        assert cycles_tick(now=local(2026, 3, 2, 12)) == {"opened": 1, "closed": 0}
        assert cycles_tick(now=local(2026, 3, 2, 13)) == {"opened": 0, "closed": 0}
        # 2026-03-H1 ends 03-16 00:00; 48 h grace: closes from 03-18 00:00
        assert cycles_tick(now=local(2026, 3, 17, 23)) == {"opened": 1, "closed": 0}
        assert cycles_tick(now=local(2026, 3, 18, 0)) == {"opened": 0, "closed": 1}
    assert AppraisalCycle.objects.get(name="2026-03-H1").state == CycleState.REVIEW
    assert AppraisalCycle.objects.get(name="2026-03-H2").state == CycleState.OPEN
