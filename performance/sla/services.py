"""Complaint SLAs: due times from the policies, breach marking and escalation."""

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import clock
from .breach import breached_q
from .models import BusinessCalendar, Complaint, SlaPolicy

log = logging.getLogger(__name__)


def calendar_spec(calendar: BusinessCalendar | None) -> clock.Calendar:
    if calendar is None:
        calendar = BusinessCalendar.objects.filter(is_default=True).first()
    if calendar is None:
        return clock.STANDARD
    periods = {}
    for p in calendar.periods.all():
        periods.setdefault(p.weekday, []).append((p.start, p.end))
    for ranges in periods.values():
        ranges.sort()
    days = list(calendar.days.all())
    return clock.Calendar(
        time_zone=calendar.time_zone,
        periods=periods,
        holidays=frozenset(d.date for d in days if not d.working),
        workdays=frozenset(d.date for d in days if d.working),
    )


class DueTimes:
    """Policies and calendars loaded once; ``for_complaint`` is then pure arithmetic."""

    def __init__(self):
        self.policies = {p.priority: p for p in SlaPolicy.objects.select_related("calendar")}
        self._calendars = {}
        for policy in self.policies.values():  # load now: callers may be in the middle of a COPY
            self.calendar(policy)

    def calendar(self, policy):
        key = policy.calendar_id
        if key not in self._calendars:
            self._calendars[key] = calendar_spec(policy.calendar)
        return self._calendars[key]

    def for_complaint(self, priority, received_at, pauses=()):
        policy = self.policies.get(priority)
        if policy is None:
            return None, None
        cal = self.calendar(policy)
        return (
            clock.due_at(received_at, policy.first_response_minutes, policy.clock, cal, pauses),
            clock.due_at(received_at, policy.resolution_minutes, policy.clock, cal, pauses),
        )


@transaction.atomic
def complaints_recompute_due(*, complaints=None) -> int:
    """Recompute due times, e.g. after a policy or the calendar changed."""
    due = DueTimes()
    qs = complaints if complaints is not None else Complaint.objects.all()
    now = timezone.now()
    changed = []
    fields = ("id", "priority", "received_at", "first_response_due", "resolution_due", "paused_minutes")
    for c in qs.only(*fields).prefetch_related("pauses").iterator(chunk_size=2000):
        pauses = [(p.start, p.end) for p in c.pauses.all()]
        first, resolution = due.for_complaint(c.priority, c.received_at, pauses)
        paused = clock.paused_minutes(pauses, now)
        if (first, resolution, paused) != (c.first_response_due, c.resolution_due, c.paused_minutes):
            c.first_response_due, c.resolution_due, c.paused_minutes = first, resolution, paused
            changed.append(c)
    Complaint.objects.bulk_update(changed, ["first_response_due", "resolution_due", "paused_minutes"], batch_size=2000)
    return len(changed)


def complaints_mark_breaches(*, now=None) -> dict:
    """Flag new breaches set-based, the moment they are seen (idempotent: flagged rows are skipped).

    Escalation emails (handler and manager) wait for working hours on the default calendar:
    outside them breaches are flagged and the emails go at the first tick inside them.
    """
    now = now or timezone.now()
    first = Q(first_response_breached_at__isnull=True) & breached_q("first_response_at", "first_response_due", now)
    resolution = Q(resolution_breached_at__isnull=True) & breached_q("resolved_at", "resolution_due", now)
    with transaction.atomic():
        n_first = Complaint.objects.filter(first).update(first_response_breached_at=now)
        n_resolution = Complaint.objects.filter(resolution).update(resolution_breached_at=now)
    escalated = 0
    if clock.is_working(now, calendar_spec(None)):
        escalated = complaints_escalate(now=now)
    return {"first_response": n_first, "resolution": n_resolution, "escalated": escalated}


def complaints_escalate(*, now) -> int:
    """Email every flagged breach not yet escalated, then record that it was.

    Only a complaint whose email went out is marked escalated: when the mail server refuses
    or cannot be reached, the complaint stays unescalated (and the failure is logged), so the
    next tick tries it again. Returns how many complaints were escalated.
    """
    pending = Complaint.objects.filter(
        Q(first_response_breached_at__isnull=False, first_response_escalated_at__isnull=True)
        | Q(resolution_breached_at__isnull=False, resolution_escalated_at__isnull=True)
    ).select_related("handler__manager")
    ids = []
    for c in pending:
        try:
            _escalate(c)
        except Exception as exc:  # noqa: BLE001 - any mail failure: retried at the next tick
            log.warning("escalation email for complaint %s failed, retried at the next tick: %s", c.external_id, exc)
            continue
        ids.append(c.pk)
    Complaint.objects.filter(
        pk__in=ids, first_response_breached_at__isnull=False, first_response_escalated_at__isnull=True
    ).update(first_response_escalated_at=now)
    Complaint.objects.filter(
        pk__in=ids, resolution_breached_at__isnull=False, resolution_escalated_at__isnull=True
    ).update(resolution_escalated_at=now)
    return len(ids)


def _escalate(complaint: Complaint) -> None:
    recipients = []
    if complaint.handler and complaint.handler.email:
        recipients.append(complaint.handler.email)
    if complaint.handler and complaint.handler.manager and complaint.handler.manager.email:
        recipients.append(complaint.handler.manager.email)
    if recipients:
        send_mail(
            _("SLA breached: complaint %(id)s") % {"id": complaint.external_id},
            _("Complaint %(id)s (%(priority)s) has breached its SLA.")
            % {"id": complaint.external_id, "priority": complaint.get_priority_display()},
            None,
            recipients,
            fail_silently=False,
        )
