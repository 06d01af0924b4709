"""Date windows as moments: [start, end) at midnight in the site's time zone."""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings


def window_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) as aware datetimes at midnight in the site's time zone."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return (
        datetime.datetime.combine(start, datetime.time(), tzinfo=tz),
        datetime.datetime.combine(end, datetime.time(), tzinfo=tz),
    )
