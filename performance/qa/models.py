"""Quality inspection: scorecards, sampled inspections and calibration rounds."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from performance.org.models import Staff
from performance.records.models import Ticket


class Scorecard(models.Model):
    code = models.SlugField(_("code"), max_length=64)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    pass_mark = models.DecimalField(_("pass mark"), max_digits=5, decimal_places=2, default=80)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("QA scorecard")
        verbose_name_plural = _("QA scorecards")
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="scorecard_code_version_unique")]

    def __str__(self):
        return f"{self.name} v{self.version}"


class ScorecardItem(models.Model):
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    weight = models.DecimalField(_("weight"), max_digits=7, decimal_places=4)
    critical = models.BooleanField(_("critical"), default=False, help_text=_("failing it fails the inspection"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class InspectionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    DISPUTED = "disputed", _("Disputed")
    REVIEWED = "reviewed", _("Reviewed")
    REPLACED = "replaced", _("Replaced")


class Inspection(models.Model):
    ticket = models.OneToOneField(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="inspection")
    scorecard = models.ForeignKey(Scorecard, verbose_name=_("scorecard"), on_delete=models.PROTECT)
    inspector = models.ForeignKey(
        Staff,
        verbose_name=_("inspector"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspections_assigned",
    )
    reviewer = models.ForeignKey(
        Staff,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspections_reviewed",
    )
    sampled_at = models.DateTimeField(_("sampled at"))
    window_start = models.DateField(_("sample window start"))
    window_end = models.DateField(_("sample window end"))
    pooled = models.BooleanField(_("drawn from the pool"), default=False)
    draw_seed = models.CharField(_("draw seed"), max_length=64, blank=True, db_default="")
    status = models.CharField(
        _("status"), max_length=16, choices=InspectionStatus.choices, default=InspectionStatus.PENDING
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    first_score = models.DecimalField(_("score before review"), max_digits=6, decimal_places=2, null=True, blank=True)
    first_passed = models.BooleanField(_("passed before review"), null=True, blank=True)
    dispute_reason = models.TextField(_("dispute reason"), blank=True)
    replaced_reason = models.TextField(_("reason replaced"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        indexes = [
            models.Index(fields=["window_start"]),
            models.Index(fields=["status", "inspector"]),
            # the queue's order: the next ticket is the first entry that passes, not a sort of all pending
            models.Index(fields=["status", "sampled_at", "id"], name="inspection_queue_order"),
        ]

    def __str__(self):
        return _("Inspection of %(ticket)s") % {"ticket": self.ticket}


class InspectionScore(models.Model):
    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="scores"
    )
    item = models.ForeignKey(ScorecardItem, verbose_name=_("rubric item"), on_delete=models.PROTECT)
    score = models.DecimalField(
        _("score"), max_digits=6, decimal_places=2, null=True, blank=True, help_text=_("empty = not applicable")
    )
    review = models.BooleanField(_("second review"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["inspection", "item", "review"], name="inspection_item_unique")]

    def __str__(self):
        return f"{self.inspection} · {self.item}"


class CalibrationRound(models.Model):
    """Tickets every inspector scores blind, to see who is strict and who is lenient."""

    name = models.CharField(_("name"), max_length=100)
    scorecard = models.ForeignKey(Scorecard, verbose_name=_("scorecard"), on_delete=models.PROTECT)
    tickets = models.ManyToManyField(Ticket, verbose_name=_("tickets"), related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    open = models.BooleanField(_("open for scoring"), default=True)

    class Meta:
        verbose_name = _("calibration round")
        verbose_name_plural = _("calibration rounds")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class CalibrationScore(models.Model):
    round = models.ForeignKey(
        CalibrationRound, verbose_name=_("calibration round"), on_delete=models.CASCADE, related_name="scores"
    )
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+")
    inspector = models.ForeignKey(Staff, verbose_name=_("inspector"), on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ScorecardItem, verbose_name=_("rubric item"), on_delete=models.CASCADE, related_name="+")
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "ticket", "inspector", "item"], name="calibration_score_unique")
        ]

    def __str__(self):
        return f"{self.round} · {self.ticket} · {self.inspector} · {self.item}"
