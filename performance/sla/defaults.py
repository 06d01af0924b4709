"""The contract's SLA defaults and a standard business calendar, for a new database."""

import datetime

from django.conf import settings

SLA_DEFAULTS = [
    ("urgent", 2 * 60, 8 * 60, "working"),
    ("high", 4 * 60, 24 * 60, "working"),
    ("normal", 24 * 60, 72 * 60, "calendar"),
    ("low", 24 * 60, 120 * 60, "calendar"),
]


def install_sla(apps) -> None:
    """Idempotent: Monday–Friday 09:00–18:00 and one policy per priority."""
    Calendar = apps.get_model("performance", "BusinessCalendar")
    Period = apps.get_model("performance", "WorkingPeriod")
    Policy = apps.get_model("performance", "SlaPolicy")
    calendar, _ = Calendar.objects.get_or_create(
        name="Standard", defaults={"is_default": True, "time_zone": settings.TIME_ZONE}
    )
    if not calendar.periods.exists():
        Period.objects.bulk_create(
            Period(calendar=calendar, weekday=d, start=datetime.time(9), end=datetime.time(18)) for d in range(5)
        )
    for priority, first, resolve, clock in SLA_DEFAULTS:
        Policy.objects.get_or_create(
            priority=priority,
            defaults={
                "first_response_minutes": first,
                "resolution_minutes": resolve,
                "clock": clock,
                "calendar": calendar,
            },
        )
