"""Reads of complaints, shared by pages, exports and the admin.

Whether a target is breached is derived here, at read time, from the due times and the events
by the one rule in ``breach`` (as SQL): every page, dashboard, export and the admin agree with
or without the beat task, which only flags and escalates.
"""

from django.db.models import BooleanField, Case, Value, When

from performance.common.windows import window_bounds

from .breach import TARGETS, breached_q
from .models import Complaint


def with_breaches(qs, *, now):
    """``qs`` (complaints) with ``first_response_breached``, ``resolution_breached`` and ``breached``."""

    def flag(q):
        return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())

    first, resolution = breached_q(*TARGETS[0], now), breached_q(*TARGETS[1], now)
    return qs.annotate(
        first_response_breached=flag(first), resolution_breached=flag(resolution), breached=flag(first | resolution)
    )


def complaints_between(*, start, end):
    """Complaints received in [start, end), oldest first."""
    s, e = window_bounds(start, end)
    return Complaint.objects.filter(received_at__gte=s, received_at__lt=e).order_by("received_at", "external_id")
