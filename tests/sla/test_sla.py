"""SLA clocks: pure due-time arithmetic, breach marking, closed loop."""

import csv
import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command

from performance.models import Complaint
from performance.sla import breach, clock
from performance.sla.services import complaints_mark_breaches
from tests.factories import ComplaintFactory, StaffFactory, local

TZ = ZoneInfo("Asia/Shanghai")
NINE_TO_SIX = {d: [(datetime.time(9), datetime.time(18))] for d in range(5)}
CAL = clock.Calendar(time_zone="Asia/Shanghai", periods=NINE_TO_SIX)


@pytest.mark.parametrize(
    ("received", "minutes", "due"),
    [
        (local(2026, 1, 9, 17), 120, local(2026, 1, 12, 10)),  # Friday evening spans the weekend
        (local(2026, 1, 9, 16), 120, local(2026, 1, 9, 18)),  # lands exactly at 18:00: that moment
        (local(2026, 1, 9, 20), 60, local(2026, 1, 12, 10)),  # outside hours: starts at the next working minute
        (local(2026, 1, 10, 11), 30, local(2026, 1, 12, 9, 30)),  # Saturday
        (local(2026, 1, 12, 8, 59), 1, local(2026, 1, 12, 9, 1)),
        (local(2026, 1, 12, 9), 24 * 60, local(2026, 1, 14, 15)),  # 24 working hours = 2 days 6 h
    ],
)
def test_working_hour_due_times(received, minutes, due):
    assert clock.due_at(received, minutes, "working", CAL) == due


def test_holidays_and_make_up_working_days():
    cal = clock.Calendar(
        time_zone="Asia/Shanghai",
        periods=NINE_TO_SIX,
        holidays=frozenset({datetime.date(2026, 1, 12)}),  # Monday off
        workdays=frozenset({datetime.date(2026, 1, 10)}),
    )  # Saturday worked, on Monday's hours
    assert clock.due_at(local(2026, 1, 9, 17), 120, "working", cal) == local(2026, 1, 10, 10)
    assert clock.due_at(local(2026, 1, 10, 17), 120, "working", cal) == local(2026, 1, 13, 10)


def test_lunch_break_is_not_counted():
    cal = clock.Calendar(
        time_zone="Asia/Shanghai",
        periods={0: [(datetime.time(9), datetime.time(12)), (datetime.time(13), datetime.time(18))]},
    )
    assert clock.due_at(local(2026, 1, 12, 11), 120, "working", cal) == local(2026, 1, 12, 14)


def test_calendar_hours_ignore_the_calendar_and_utc_input_gives_the_same_instant():
    received = datetime.datetime(2026, 1, 9, 12, 0, tzinfo=datetime.UTC)  # Friday 20:00 local
    assert clock.due_at(received, 24 * 60, "calendar", CAL) == local(2026, 1, 10, 20)
    assert clock.due_at(received, 60, "working", CAL) == local(2026, 1, 12, 10)


def test_breached_rules():
    due = local(2026, 1, 9, 18)
    assert breach.breached(local(2026, 1, 9, 18), due, now=local(2026, 1, 10)) is False  # on time exactly
    assert breach.breached(local(2026, 1, 9, 18, 0, 1), due, now=local(2026, 1, 10)) is True
    assert breach.breached(None, due, now=local(2026, 1, 9, 17)) is False  # not yet due
    assert breach.breached(None, due, now=local(2026, 1, 9, 18, 1)) is True


@pytest.mark.django_db
def test_marking_breaches_is_idempotent_and_escalates_to_the_manager():
    manager = StaffFactory(employee_no="M1", role="manager", email="boss@example.com")
    handler = StaffFactory(employee_no="H1", manager=manager, email="h@example.com")
    ComplaintFactory(
        handler=handler,
        priority="urgent",
        received_at=local(2026, 1, 9, 10),
        first_response_due=local(2026, 1, 9, 12),
        resolution_due=local(2026, 1, 9, 18),
    )
    ComplaintFactory(
        handler=handler,
        received_at=local(2026, 1, 9, 10),
        first_response_at=local(2026, 1, 9, 11),
        first_response_due=local(2026, 1, 10, 10),
        resolution_due=local(2026, 1, 12, 10),
    )
    evening = local(2026, 1, 9, 20)  # Friday evening: flagged now, escalated on Monday morning
    assert complaints_mark_breaches(now=evening) == {"first_response": 1, "resolution": 1, "escalated": 0}
    assert mail.outbox == []
    monday = local(2026, 1, 12, 9, 5)
    assert complaints_mark_breaches(now=monday) == {"first_response": 0, "resolution": 0, "escalated": 1}
    assert complaints_mark_breaches(now=monday) == {"first_response": 0, "resolution": 0, "escalated": 0}
    now = evening
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"h@example.com", "boss@example.com"}
    breached = Complaint.objects.get(priority="urgent")
    assert breached.first_response_breached_at == now and breached.first_response_escalated_at == monday


@pytest.mark.django_db
def test_export_complaints_flags_and_closed_loop(tmp_path):
    ComplaintFactory(
        external_id="A",
        received_at=local(2026, 1, 9, 10),
        first_response_at=local(2026, 1, 9, 11),
        resolved_at=local(2026, 1, 9, 12),
        confirmed_at=local(2026, 1, 9, 13),
        first_response_due=local(2026, 1, 9, 10, 30),
        resolution_due=local(2026, 1, 12, 10),
    )
    ComplaintFactory(external_id="B", received_at=local(2026, 2, 1, 0))  # outside the window
    out = tmp_path / "c.csv"
    call_command("export_complaints", "--start", "2026-01-01", "--end", "2026-02-01", "--output", str(out))
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 1
    assert {
        k: rows[0][k]
        for k in (
            "external_id",
            "received_at",
            "first_response_due",
            "first_response_breached",
            "resolution_breached",
            "closed_loop",
        )
    } == {
        "external_id": "A",
        "received_at": "2026-01-09T10:00:00+08:00",
        "first_response_due": "2026-01-09T10:30:00+08:00",
        "first_response_breached": "true",
        "resolution_breached": "false",
        "closed_loop": "true",
    }


def test_paused_time_does_not_count_and_a_running_pause_stops_the_clock():
    # received Mon 10:00, 2 working hours; paused 10:30–11:30 → due 13:00
    pauses = [(local(2026, 1, 12, 10, 30), local(2026, 1, 12, 11, 30))]
    assert clock.due_at(local(2026, 1, 12, 10), 120, "working", CAL, pauses) == local(2026, 1, 12, 13)
    # a pause across the evening only costs its working part
    pauses = [(local(2026, 1, 12, 17), local(2026, 1, 13, 10))]
    assert clock.due_at(local(2026, 1, 12, 16), 120, "working", CAL, pauses) == local(2026, 1, 13, 11)
    # calendar hours: the pause is simply added
    pauses = [(local(2026, 1, 12, 12), local(2026, 1, 12, 14))]
    assert clock.due_at(local(2026, 1, 12, 10), 24 * 60, "calendar", CAL, pauses) == local(2026, 1, 13, 12)
    assert clock.due_at(local(2026, 1, 12, 10), 120, "working", CAL, [(local(2026, 1, 12, 10, 30), None)]) is None
    assert clock.paused_minutes([(local(2026, 1, 12, 10, 30), local(2026, 1, 12, 11, 30))], None) == 60


def test_is_working():
    assert clock.is_working(local(2026, 1, 12, 9), CAL) and not clock.is_working(local(2026, 1, 12, 18), CAL)
    assert not clock.is_working(local(2026, 1, 10, 12), CAL)


@pytest.mark.django_db
def test_the_breach_rule_reads_the_same_in_python_and_in_sql():
    # given: every combination of an event before, at or after its due time, or missing, and a due time or none
    now = local(2026, 1, 10, 12)
    due = local(2026, 1, 10, 10)
    events = [None, due - datetime.timedelta(seconds=1), due, due + datetime.timedelta(seconds=1)]
    dues = [None, due, now + datetime.timedelta(hours=1)]
    for i, (first, resolved, first_due, resolution_due) in enumerate(
        (f, r, fd, rd) for f in events for r in events for fd in dues for rd in dues
    ):
        ComplaintFactory(
            external_id=f"B{i:03d}",
            received_at=local(2026, 1, 10, 8),
            first_response_at=first,
            resolved_at=resolved,
            first_response_due=first_due,
            resolution_due=resolution_due,
        )
    complaints = list(Complaint.objects.all())
    # when
    in_sql = set(Complaint.objects.filter(breach.any_breached_q(now)).values_list("pk", flat=True))
    met_in_sql = set(Complaint.objects.filter(breach.met_q(now)).values_list("pk", flat=True))
    # then
    in_python = {
        c.pk
        for c in complaints
        if breach.breached(c.first_response_at, c.first_response_due, now)
        or breach.breached(c.resolved_at, c.resolution_due, now)
    }
    assert in_sql == in_python
    assert met_in_sql == {c.pk for c in complaints} - in_python
    assert len(in_python) not in (0, len(complaints))


class RefusingMailServer(BaseEmailBackend):
    """A mail server that refuses every message, as an unreachable SMTP server does."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server unreachable")


@pytest.mark.django_db
def test_a_complaint_whose_escalation_email_fails_stays_unescalated_and_is_retried(settings):
    # given a breached complaint, and a mail server that refuses everything
    manager = StaffFactory(employee_no="M1", role="manager", email="boss@example.com")
    handler = StaffFactory(employee_no="H1", manager=manager, email="h@example.com")
    ComplaintFactory(
        handler=handler,
        priority="urgent",
        received_at=local(2026, 1, 9, 10),
        first_response_due=local(2026, 1, 9, 12),
        resolution_due=local(2026, 1, 9, 18),
    )
    settings.EMAIL_BACKEND = "tests.sla.test_sla.RefusingMailServer"
    monday = local(2026, 1, 12, 9, 5)
    # when the tick runs
    result = complaints_mark_breaches(now=monday)
    # then the breach is flagged but not escalated
    complaint = Complaint.objects.get()
    assert result["escalated"] == 0
    assert complaint.first_response_breached_at == monday and complaint.first_response_escalated_at is None
    # when the mail server is back, the next tick escalates it
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = local(2026, 1, 12, 9, 10)
    assert complaints_mark_breaches(now=later)["escalated"] == 1
    complaint.refresh_from_db()
    assert complaint.first_response_escalated_at == later and len(mail.outbox) == 1
