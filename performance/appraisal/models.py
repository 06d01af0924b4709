"""Templates, cycles, computed metrics, KCI ratings, appraisals and appeals."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from performance.org.models import Role, Staff


class Grading(models.TextChoices):
    THRESHOLDS = "thresholds", _("Fixed thresholds")
    RANK = "rank", _("By rank")
    PERCENTILE = "percentile", _("Forced distribution (percent of ranked staff)")


class AppraisalTemplate(models.Model):
    code = models.SlugField(_("code"), max_length=64)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    grading_method = models.CharField(_("grading"), max_length=16, choices=Grading.choices, default=Grading.THRESHOLDS)
    grades = models.JSONField(_("grades"), default=list, help_text=_("[[bound, grade], …] in order"))
    min_tickets = models.PositiveIntegerField(_("minimum tickets to be rated"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appraisal template")
        verbose_name_plural = _("appraisal templates")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="template_code_version_unique")]

    def __str__(self):
        return f"{self.name} (v{self.version})"


class SectionKind(models.TextChoices):
    KPI = "kpi", _("KPI (measurable)")
    KCI = "kci", _("KCI (qualitative)")


class Section(models.Model):
    template = models.ForeignKey(
        AppraisalTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="sections"
    )
    code = models.SlugField(_("code"), max_length=32)
    kind = models.CharField(_("kind"), max_length=8, choices=SectionKind.choices)
    weight = models.DecimalField(_("weight"), max_digits=7, decimal_places=4)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="section_code_unique"),
            models.CheckConstraint(condition=Q(weight__gt=0, weight__lte=100), name="section_weight_range"),
        ]

    def __str__(self):
        return f"{self.template} · {self.get_kind_display()}"


class Indicator(models.Model):
    section = models.ForeignKey(Section, verbose_name=_("section"), on_delete=models.CASCADE, related_name="indicators")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200, blank=True)
    metric = models.CharField(_("metric"), max_length=64, blank=True, help_text=_("empty for a manager rating"))
    weight = models.DecimalField(_("weight"), max_digits=7, decimal_places=4)
    rule = models.CharField(_("scoring rule"), max_length=16, help_text=_("how the raw value becomes a 0–100 score"))
    params = models.JSONField(_("rule parameters"), default=dict, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["section", "code"], name="indicator_code_unique"),
            models.CheckConstraint(condition=Q(weight__gt=0, weight__lte=100), name="indicator_weight_range"),
        ]

    def __str__(self):
        return self.name or self.code


class CycleState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", pgettext_lazy("cycle state", "Open")
    CLOSING = "closing", _("Closing")
    FAILED = "failed", _("Close failed")
    REVIEW = "review", _("In review")
    FINALIZED = "finalized", _("Finalized")


class AppraisalCycle(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    start = models.DateField(_("start"))
    end = models.DateField(_("end (exclusive)"))
    state = models.CharField(_("state"), max_length=16, choices=CycleState.choices, default=CycleState.OPEN)
    templates = models.ManyToManyField(AppraisalTemplate, verbose_name=_("templates"), related_name="cycles")
    appeal_days = models.PositiveIntegerField(_("appeal window (days)"), default=7)
    progress_done = models.PositiveIntegerField(_("members done"), default=0)
    progress_total = models.PositiveIntegerField(_("members"), default=0)
    close_run = models.PositiveIntegerField(_("close run"), default=0)
    error = models.TextField(_("error"), blank=True)
    closing_started_at = models.DateTimeField(_("close started"), null=True, blank=True)
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    score_attempt = models.PositiveIntegerField(_("scoring step sent"), default=0)
    score_sent_at = models.DateTimeField(_("scoring step sent at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    finalized_at = models.DateTimeField(_("finalized at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appraisal cycle")
        verbose_name_plural = _("appraisal cycles")
        ordering = ["-start", "name"]
        constraints = [models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="cycle_start_before_end")]

    def __str__(self):
        return self.name

    @property
    def locked(self) -> bool:
        return self.state == CycleState.FINALIZED


class ChunkState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DONE = "done", _("Done")


class CloseChunk(models.Model):
    """One chunk of members of one close run: sent to a worker, and whether it reported.

    ``attempt`` is the fencing token: every send of the chunk carries the next number, and a
    task writes only if its number is the chunk's current one, so a chunk the watchdog sent
    again and a late original never both write. ``resends`` counts the watchdog's re-sends of
    a chunk that did not report; ``deliveries`` counts the times a worker started it (a chunk
    that keeps killing its worker is delivered again and again by the broker).
    """

    cycle = models.ForeignKey(AppraisalCycle, on_delete=models.CASCADE, related_name="close_chunks")
    run = models.PositiveIntegerField(_("close run"))
    position = models.PositiveIntegerField(_("chunk"))
    staff_ids = models.JSONField(_("members"), default=list)
    state = models.CharField(_("state"), max_length=8, choices=ChunkState.choices, default=ChunkState.QUEUED)
    attempt = models.PositiveIntegerField(_("attempt"), default=0)
    resends = models.PositiveIntegerField(_("re-sent by the watchdog"), default=0)
    deliveries = models.PositiveIntegerField(_("deliveries"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("close chunk")
        verbose_name_plural = _("close chunks")
        ordering = ["cycle", "run", "position"]
        constraints = [models.UniqueConstraint(fields=["cycle", "run", "position"], name="close_chunk_unique")]

    def __str__(self):
        return f"{self.cycle} · run {self.run} · chunk {self.position + 1}"


class MetricSource(models.TextChoices):
    COMPUTED = "computed", _("Computed")
    IMPORTED = "imported", _("Imported")


class MemberMetrics(models.Model):
    """Every computed metric of one member in one cycle, written by the close as one row.

    ``values`` maps a metric code to ``[numerator, denominator]``: counts as JSON integers,
    amounts and seconds as decimal strings (exact, never floats); the denominator is null
    for a plain value and 0 for a ratio that is undefined (n/a). One row per member rather
    than one per metric: a close of 5,000 staff writes and reads back 5,000 rows, not 85,000.
    Values imported with ``import_data metrics`` are ``MetricValue`` rows.
    """

    cycle = models.ForeignKey(
        AppraisalCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="member_metrics", db_index=False
    )  # the unique constraint below leads with the cycle
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="member_metrics")
    values = models.JSONField(_("values"), default=dict)

    class Meta:
        verbose_name = _("computed metrics")
        verbose_name_plural = _("computed metrics")
        constraints = [models.UniqueConstraint(fields=["cycle", "staff"], name="member_metrics_unique")]

    def __str__(self):
        return f"{self.cycle} · {self.staff}"


class MetricValue(models.Model):
    """An imported metric's value for one member in one cycle; NULL means undefined (n/a).

    Computed metrics live in ``MemberMetrics``; rows with source "computed" are from before it.
    """

    cycle = models.ForeignKey(
        AppraisalCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="metric_values"
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.CASCADE, related_name="metric_values"
    )
    metric = models.CharField(_("metric"), max_length=64)
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=10, null=True, blank=True)
    numerator = models.DecimalField(_("numerator"), max_digits=24, decimal_places=6, null=True, blank=True)
    denominator = models.DecimalField(_("denominator"), max_digits=24, decimal_places=6, null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=MetricSource.choices, default=MetricSource.COMPUTED)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("metric value")
        verbose_name_plural = _("metric values")
        constraints = [models.UniqueConstraint(fields=["cycle", "staff", "metric"], name="metric_value_unique")]

    def __str__(self):
        return f"{self.cycle} · {self.staff} · {self.metric}"


class KciRating(models.Model):
    cycle = models.ForeignKey(
        AppraisalCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="kci_ratings"
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.CASCADE, related_name="kci_ratings"
    )
    indicator = models.CharField(_("indicator"), max_length=32)
    rating = models.DecimalField(_("rating"), max_digits=6, decimal_places=2)
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        Staff,
        verbose_name=_("rated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kci_ratings_given",
    )
    rated_at = models.DateTimeField(_("rated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("KCI rating")
        verbose_name_plural = _("KCI ratings")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "staff", "indicator"], name="kci_rating_unique"),
            models.CheckConstraint(condition=Q(rating__gte=0), name="kci_rating_not_negative"),
        ]

    def __str__(self):
        return f"{self.cycle} · {self.staff} · {self.indicator}"


class Appraisal(models.Model):
    cycle = models.ForeignKey(
        AppraisalCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="appraisals"
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.CASCADE, related_name="appraisals"
    )
    template = models.ForeignKey(
        AppraisalTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="appraisals"
    )
    final_score = models.DecimalField(_("final score"), max_digits=6, decimal_places=2, null=True)
    grade = models.CharField(_("grade"), max_length=32, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    eligible = models.BooleanField(_("eligible"), default=True)
    tickets_handled = models.PositiveIntegerField(_("tickets handled"), default=0)
    override_score = models.DecimalField(_("calibrated score"), max_digits=6, decimal_places=2, null=True, blank=True)
    override_grade = models.CharField(_("calibrated grade"), max_length=32, blank=True)
    override_reason = models.TextField(_("calibration note"), blank=True)
    calibrated_rank = models.PositiveIntegerField(
        _("rank after calibration"),
        null=True,
        blank=True,
        help_text=_("place by effective score when a calibration changed a score on the same template"),
    )
    improvement_plan = models.BooleanField(_("flagged for improvement plan"), default=False)
    computed_at = models.DateTimeField(_("computed at"), null=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appraisal")
        verbose_name_plural = _("appraisals")
        ordering = ["cycle", "rank", "staff__employee_no"]
        constraints = [models.UniqueConstraint(fields=["cycle", "staff"], name="appraisal_one_per_cycle")]

    def __str__(self):
        return f"{self.cycle} · {self.staff}"

    def get_absolute_url(self):
        return reverse("appraisal-detail", args=[self.pk])

    @property
    def calibrated(self) -> bool:
        return self.override_score is not None or bool(self.override_grade)


class SectionResult(models.Model):
    appraisal = models.ForeignKey(
        Appraisal, verbose_name=_("appraisal"), on_delete=models.CASCADE, related_name="sections"
    )
    code = models.CharField(_("section"), max_length=32)
    kind = models.CharField(_("kind"), max_length=8, choices=SectionKind.choices)
    weight = models.DecimalField(_("weight"), max_digits=7, decimal_places=4)
    effective_weight = models.DecimalField(
        _("share of final"),
        max_digits=8,
        decimal_places=4,
        null=True,
        help_text=_("share of the final score, 0–1, as shown (2 places in %)"),
    )
    score = models.DecimalField(
        _("score"), max_digits=8, decimal_places=2, null=True, help_text=_("as shown: rounded once")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("section result")
        verbose_name_plural = _("section results")
        ordering = ["position"]

    def __str__(self):
        return f"{self.appraisal_id and self.appraisal} · {self.get_kind_display()}"


class IndicatorResult(models.Model):
    """Every figure needed to redo one indicator's arithmetic by hand.

    Each figure is stored as people read it, rounded once, half-up, from its exact value
    (contract, "Edge rules"): score to 2 places, share to 4 (2 places as a percentage),
    contribution to 4, the raw value to 10. Nothing rounds a stored figure again.
    """

    appraisal = models.ForeignKey(
        Appraisal, verbose_name=_("appraisal"), on_delete=models.CASCADE, related_name="indicators"
    )
    section = models.CharField(_("section"), max_length=32)
    indicator = models.CharField(_("indicator"), max_length=32)
    name = models.CharField(_("name"), max_length=200, blank=True)
    metric = models.CharField(_("metric"), max_length=64, blank=True)
    raw_value = models.DecimalField(_("raw value"), max_digits=24, decimal_places=10, null=True)
    rule = models.CharField(_("scoring rule"), max_length=16)
    params = models.JSONField(_("rule parameters"), default=dict)
    score = models.DecimalField(_("score"), max_digits=8, decimal_places=2, null=True)
    weight = models.DecimalField(_("weight"), max_digits=7, decimal_places=4)
    effective_weight = models.DecimalField(
        _("share of final"),
        max_digits=8,
        decimal_places=4,
        null=True,
        help_text=_("share of the final score, 0–1 (2 places in %)"),
    )
    contribution = models.DecimalField(_("contribution"), max_digits=10, decimal_places=4, null=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("indicator result")
        verbose_name_plural = _("indicator results")
        ordering = ["position"]

    def __str__(self):
        return self.name or self.indicator


class AppealStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("appeal status", "Open")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


class Appeal(models.Model):
    appraisal = models.ForeignKey(
        Appraisal, verbose_name=_("appraisal"), on_delete=models.CASCADE, related_name="appeals"
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.OPEN)
    decision = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-created_at"]

    def __str__(self):
        return _("Appeal of %(member)s on %(cycle)s") % {
            "member": self.appraisal.staff,
            "cycle": self.appraisal.cycle,
        }
