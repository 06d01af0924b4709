from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .money import MONEY_FIELD


class Role(models.TextChoices):
    AGENT = "agent", _("Customer-service agent")
    PRESALES = "presales", _("Pre-sales agent")
    AFTERSALES = "aftersales", _("After-sales agent")
    SALES = "sales", _("Sales")
    OPERATOR = "operator", _("Content operator")
    MANAGER = "manager", _("Manager")


class Channel(models.TextChoices):
    CHAT = "chat", _("Online chat")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    SOCIAL = "social", _("Social media")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent team"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Staff(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("login"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="staff",
    )
    employee_no = models.CharField(_("employee no."), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), blank=True)
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="members")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    manager = models.ForeignKey(
        "self", verbose_name=_("manager"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="reports",
    )
    hired_on = models.DateField(_("hired on"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["employee_no"]
        indexes = [models.Index(fields=["role", "active"])]

    def __str__(self):
        return f"{self.employee_no} {self.name}"


class TicketKind(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    SUPPORT = "support", _("Support")
    AFTERSALES = "aftersales", _("After-sales")


class Ticket(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    staff = models.ForeignKey(Staff, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="tickets")
    kind = models.CharField(_("kind"), max_length=16, choices=TicketKind.choices, default=TicketKind.SUPPORT)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.CHAT)
    customer_id = models.CharField(_("customer"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    avg_response_seconds = models.PositiveIntegerField(_("average response (s)"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    reopened = models.BooleanField(_("reopened"), default=False)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["staff", "created_at"]),
            models.Index(fields=["created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="ticket_rating_1_5",
            )
        ]

    def __str__(self):
        return self.external_id


class Order(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    staff = models.ForeignKey(Staff, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="orders")
    customer_id = models.CharField(_("customer"), max_length=64, db_index=True)
    product_category = models.CharField(_("product category"), max_length=64)
    amount = models.DecimalField(_("amount"), **MONEY_FIELD)
    ordered_at = models.DateTimeField(_("ordered at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("inquiry ticket"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="orders",
    )
    is_renewal = models.BooleanField(_("renewal"), default=False)
    term_end = models.DateField(_("service term ends"), null=True, blank=True)
    refunded_amount = models.DecimalField(_("refunded amount"), default=0, **MONEY_FIELD)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["staff", "paid_at"]),
            models.Index(fields=["paid_at"]),
            models.Index(fields=["refunded_at"]),
            models.Index(fields=["term_end"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=models.F("amount")),
                name="order_refund_within_amount",
            ),
        ]

    def __str__(self):
        return self.external_id


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

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=[(i, d) for i, d in enumerate(
            [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]
        )]
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["weekday", "start"]
        constraints = [models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="period_start_before_end")]


class CalendarDay(models.Model):
    """A holiday (not working) or a make-up working day (working, on Monday's hours)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    working = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday or make-up day")
        verbose_name_plural = _("holidays and make-up days")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique")]


class SlaPolicy(models.Model):
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, unique=True)
    first_response_minutes = models.PositiveIntegerField(_("first response target (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution target (minutes)"))
    clock = models.CharField(_("clock"), max_length=16, choices=SlaClock.choices)
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self):
        return self.get_priority_display()


class Complaint(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    staff = models.ForeignKey(
        Staff, verbose_name=_("complained about"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="complaints",
    )
    handler = models.ForeignKey(
        Staff, verbose_name=_("handler"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="handled_complaints",
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

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="pauses")
    start = models.DateTimeField(_("paused from"))
    end = models.DateTimeField(_("paused until"), null=True, blank=True, help_text=_("empty while still waiting"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        ordering = ["start"]
        constraints = [models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gt=models.F("start")),
                                              name="pause_end_after_start")]


# --- Appraisal -----------------------------------------------------------------


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
        return f"{self.code} v{self.version}"


class SectionKind(models.TextChoices):
    KPI = "kpi", _("KPI (measurable)")
    KCI = "kci", _("KCI (qualitative)")


class Section(models.Model):
    template = models.ForeignKey(AppraisalTemplate, on_delete=models.CASCADE, related_name="sections")
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
        return f"{self.template} · {self.code}"


class ScoringRule(models.TextChoices):
    LINEAR = "linear", _("Linear between floor and target")
    THRESHOLD = "threshold", _("Pass/fail threshold")
    BANDS = "bands", _("Bands")
    RATIO = "ratio", _("Ratio to target")
    RANK = "rank", _("Rank among peers")
    RATING = "rating", _("Manager rating")


class Indicator(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="indicators")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200, blank=True)
    metric = models.CharField(_("metric"), max_length=64, blank=True, help_text=_("empty for a manager rating"))
    weight = models.DecimalField(_("weight"), max_digits=7, decimal_places=4)
    rule = models.CharField(_("scoring rule"), max_length=16, choices=ScoringRule.choices)
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
        return self.code


class CycleState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
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

    cycle = models.ForeignKey(AppraisalCycle, on_delete=models.CASCADE, related_name="member_metrics",
                              db_index=False)  # the unique constraint below leads with the cycle
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="member_metrics")
    values = models.JSONField(_("values"), default=dict)

    class Meta:
        verbose_name = _("computed metrics")
        verbose_name_plural = _("computed metrics")
        constraints = [models.UniqueConstraint(fields=["cycle", "staff"], name="member_metrics_unique")]


class MetricValue(models.Model):
    """An imported metric's value for one member in one cycle; NULL means undefined (n/a).

    Computed metrics live in ``MemberMetrics``; rows with source "computed" are from before it.
    """

    cycle = models.ForeignKey(AppraisalCycle, on_delete=models.CASCADE, related_name="metric_values")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="metric_values")
    metric = models.CharField(_("metric"), max_length=64)
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=10, null=True, blank=True)
    numerator = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    denominator = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=MetricSource.choices, default=MetricSource.COMPUTED)

    class Meta:
        verbose_name = _("metric value")
        verbose_name_plural = _("metric values")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "staff", "metric"], name="metric_value_unique")
        ]


class KciRating(models.Model):
    cycle = models.ForeignKey(AppraisalCycle, on_delete=models.CASCADE, related_name="kci_ratings")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="kci_ratings")
    indicator = models.CharField(_("indicator"), max_length=32)
    rating = models.DecimalField(_("rating"), max_digits=6, decimal_places=2)
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        Staff, verbose_name=_("rated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="kci_ratings_given",
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


class Appraisal(models.Model):
    cycle = models.ForeignKey(AppraisalCycle, on_delete=models.CASCADE, related_name="appraisals")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="appraisals")
    template = models.ForeignKey(AppraisalTemplate, on_delete=models.PROTECT, related_name="appraisals")
    final_score = models.DecimalField(_("final score"), max_digits=6, decimal_places=2, null=True)
    grade = models.CharField(_("grade"), max_length=32, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    eligible = models.BooleanField(_("eligible"), default=True)
    tickets_handled = models.PositiveIntegerField(_("tickets handled"), default=0)
    override_score = models.DecimalField(_("calibrated score"), max_digits=6, decimal_places=2, null=True, blank=True)
    override_grade = models.CharField(_("calibrated grade"), max_length=32, blank=True)
    override_reason = models.TextField(_("calibration note"), blank=True)
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
    def effective_score(self):
        return self.override_score if self.override_score is not None else self.final_score

    @property
    def effective_grade(self):
        return self.override_grade or self.grade


class SectionResult(models.Model):
    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="sections")
    code = models.CharField(max_length=32)
    kind = models.CharField(max_length=8, choices=SectionKind.choices)
    weight = models.DecimalField(max_digits=7, decimal_places=4)
    effective_weight = models.DecimalField(max_digits=12, decimal_places=6, null=True)
    score = models.DecimalField(max_digits=10, decimal_places=4, null=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]


class IndicatorResult(models.Model):
    """Every figure needed to redo one indicator's arithmetic by hand."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="indicators")
    section = models.CharField(max_length=32)
    indicator = models.CharField(max_length=32)
    name = models.CharField(max_length=200, blank=True)
    metric = models.CharField(max_length=64, blank=True)
    raw_value = models.DecimalField(max_digits=24, decimal_places=10, null=True)
    rule = models.CharField(max_length=16)
    params = models.JSONField(default=dict)
    score = models.DecimalField(max_digits=10, decimal_places=4, null=True)
    weight = models.DecimalField(max_digits=7, decimal_places=4)
    effective_weight = models.DecimalField(
        max_digits=12, decimal_places=8, null=True, help_text="share of the final score, 0–1"
    )
    contribution = models.DecimalField(max_digits=12, decimal_places=6, null=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]


class AppealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


class Appeal(models.Model):
    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="appeals")
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.OPEN)
    decision = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-created_at"]


# --- Quality inspection --------------------------------------------------------


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
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    weight = models.DecimalField(_("weight"), max_digits=7, decimal_places=4)
    critical = models.BooleanField(_("critical"), default=False, help_text=_("failing it fails the inspection"))
    position = models.PositiveSmallIntegerField(default=0)

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
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="inspection")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT)
    inspector = models.ForeignKey(
        Staff, verbose_name=_("inspector"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="inspections_assigned",
    )
    reviewer = models.ForeignKey(
        Staff, verbose_name=_("reviewer"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="inspections_reviewed",
    )
    sampled_at = models.DateTimeField(_("sampled at"))
    window_start = models.DateField(_("sample window start"))
    window_end = models.DateField(_("sample window end"))
    pooled = models.BooleanField(_("drawn from the pool"), default=False)
    draw_seed = models.CharField(_("draw seed"), max_length=64, blank=True, db_default="")
    status = models.CharField(_("status"), max_length=16, choices=InspectionStatus.choices, default=InspectionStatus.PENDING)
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
        indexes = [models.Index(fields=["window_start"]), models.Index(fields=["status", "inspector"])]

    def __str__(self):
        return f"QA {self.ticket}"


class InspectionScore(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(ScorecardItem, on_delete=models.PROTECT)
    score = models.DecimalField(
        _("score"), max_digits=6, decimal_places=2, null=True, blank=True, help_text=_("empty = not applicable")
    )
    review = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["inspection", "item", "review"], name="inspection_item_unique")]


class CalibrationRound(models.Model):
    """Tickets every inspector scores blind, to see who is strict and who is lenient."""

    name = models.CharField(_("name"), max_length=100)
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT)
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
    round = models.ForeignKey(CalibrationRound, on_delete=models.CASCADE, related_name="scores")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    inspector = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ScorecardItem, on_delete=models.CASCADE, related_name="+")
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "ticket", "inspector", "item"],
                                               name="calibration_score_unique")]
