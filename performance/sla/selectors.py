"""Reads of complaints, shared by pages, exports and the admin."""

from performance.common.windows import window_bounds

from .models import Complaint


def complaints_between(*, start, end):
    """Complaints received in [start, end), oldest first."""
    s, e = window_bounds(start, end)
    return Complaint.objects.filter(received_at__gte=s, received_at__lt=e).order_by("received_at", "external_id")
