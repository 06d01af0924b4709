"""Complaints, their SLA policies and the business calendar the clocks run on."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from performance.org.models import Staff
from performance.records.models import Channel


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class SlaClock(models.TextChoices):
    WORKING = "working", _("Working hours")
    CALENDAR = "calendar", _("Calendar hours")


class BusinessCalendar(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    is_default = models.BooleanField(_("default"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self):
        return self.name


class WorkingPeriod(models.Model):
    """One stretch of working time on a weekday (0 = Monday); a lunch break is two periods."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="periods"
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (i, d)
            for i, d in enumerate(
                [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]
            )
        ],
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["weekday", "start"]
        constraints = [models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="period_start_before_end")]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class CalendarDay(models.Model):
    """A holiday (not working) or a make-up working day (working, on Monday's hours)."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("date"))
    working = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday or make-up day")
        verbose_name_plural = _("holidays and make-up days")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique")]

    def __str__(self):
        return f"{self.date} {self.name}".strip()


class SlaPolicy(models.Model):
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, unique=True)
    first_response_minutes = models.PositiveIntegerField(_("first response target (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution target (minutes)"))
    clock = models.CharField(_("clock"), max_length=16, choices=SlaClock.choices)
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), null=True, blank=True, on_delete=models.PROTECT
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self):
        return self.get_priority_display()


class Complaint(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    staff = models.ForeignKey(
        Staff,
        verbose_name=_("complained about"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    handler = models.ForeignKey(
        Staff,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_complaints",
    )
    customer_id = models.CharField(_("customer"), max_length=64, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.CHAT)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices)
    received_at = models.DateTimeField(_("received at"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("customer confirmation sent at"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_response_breached_at = models.DateTimeField(_("first response breach flagged"), null=True, blank=True)
    resolution_breached_at = models.DateTimeField(_("resolution breach flagged"), null=True, blank=True)
    first_response_escalated_at = models.DateTimeField(_("first response breach escalated"), null=True, blank=True)
    resolution_escalated_at = models.DateTimeField(_("resolution breach escalated"), null=True, blank=True)
    paused_minutes = models.PositiveIntegerField(_("minutes paused (waiting on the customer)"), default=0, db_default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(fields=["received_at"]),
            models.Index(fields=["staff", "received_at"]),
            models.Index(fields=["handler", "received_at"]),
        ]

    def __str__(self):
        return self.external_id

    @property
    def closed(self) -> bool:
        """Closed loop: resolved and the customer's confirmation recorded."""
        return self.resolved_at is not None and self.confirmed_at is not None


class ComplaintPause(models.Model):
    """Time spent waiting on the customer: it does not count against the SLA."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="pauses"
    )
    start = models.DateTimeField(_("paused from"))
    end = models.DateTimeField(_("paused until"), null=True, blank=True, help_text=_("empty while still waiting"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=models.F("start")), name="pause_end_after_start"
            )
        ]

    def __str__(self):
        return f"{self.complaint} · {self.start:%Y-%m-%d %H:%M}"
