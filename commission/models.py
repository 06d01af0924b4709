from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from performance.common.money import MONEY_FIELD
from performance.models import AppraisalCycle, Order, Staff


class Period(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    ANNUAL = "annual", _("Annual")


class CommissionPlan(models.Model):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("commission plan")
        verbose_name_plural = _("commission plans")
        ordering = ["code"]

    def __str__(self):
        return self.name


class PlanVersion(models.Model):
    """One effective-dated version of a plan; a cycle uses the version in force at its start."""

    plan = models.ForeignKey(CommissionPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("in force from"))
    roles = models.JSONField(_("roles"), default=list)
    period = models.CharField(_("period"), max_length=16, choices=Period.choices, default=Period.MONTHLY)
    rate_min = models.DecimalField(_("lowest rate allowed"), max_digits=6, decimal_places=4, default="0.05")
    rate_max = models.DecimalField(_("highest rate allowed"), max_digits=6, decimal_places=4, default="0.20")
    default_rate = models.DecimalField(_("default rate"), max_digits=6, decimal_places=4)
    high_value_min_amount = models.DecimalField(_("high-value order from"), null=True, blank=True, **MONEY_FIELD)
    high_value_extra_rate = models.DecimalField(_("high-value extra rate"), max_digits=6, decimal_places=4, default=0)
    modifiers = models.JSONField(_("modifiers"), default=dict, blank=True)
    tiers = models.JSONField(_("quota tiers"), default=list, blank=True)
    quota = models.DecimalField(_("quota"), null=True, blank=True, **MONEY_FIELD)
    pk_bonus = models.JSONField(_("PK ranking bonus"), default=dict, blank=True)
    clawback_days = models.PositiveIntegerField(_("clawback window (days)"), default=90)
    cap = models.DecimalField(_("cap per payout"), null=True, blank=True, **MONEY_FIELD)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan", "-effective_from", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="plan_version_unique"),
            models.CheckConstraint(
                condition=Q(default_rate__gte=models.F("rate_min")) & Q(default_rate__lte=models.F("rate_max")),
                name="plan_default_rate_within_bounds",
            ),
            models.CheckConstraint(condition=Q(rate_min__lte=models.F("rate_max")), name="plan_bounds_ordered"),
        ]

    def __str__(self):
        return f"{self.plan.name} v{self.version}"


class PlanRate(models.Model):
    version = models.ForeignKey(
        PlanVersion, verbose_name=_("plan version"), on_delete=models.CASCADE, related_name="rates"
    )
    category = models.CharField(_("product category"), max_length=64)
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        constraints = [
            models.UniqueConstraint(fields=["version", "category"], name="plan_rate_unique"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=1), name="plan_rate_fraction"),
        ]

    def __str__(self):
        return f"{self.version} · {self.category}"


class CyclePlan(models.Model):
    cycle = models.ForeignKey(
        AppraisalCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="cycle_plans"
    )
    plan_version = models.ForeignKey(
        PlanVersion, verbose_name=_("plan version"), on_delete=models.PROTECT, related_name="cycle_plans"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cycle", "plan_version"], name="cycle_plan_unique")]

    def __str__(self):
        return f"{self.cycle} · {self.plan_version}"


class PayoutStatus(models.TextChoices):
    CALCULATED = "calculated", _("Calculated")
    ON_HOLD = "on_hold", _("On hold")
    APPROVED = "approved", _("Approved")
    EXPORTED = "exported", _("Exported")
    PAID = "paid", _("Paid")


LOCKED_PAYOUT_STATES = (PayoutStatus.APPROVED, PayoutStatus.EXPORTED, PayoutStatus.PAID)


class Payout(models.Model):
    cycle = models.ForeignKey(AppraisalCycle, verbose_name=_("cycle"), on_delete=models.PROTECT, related_name="payouts")
    staff = models.ForeignKey(Staff, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="payouts")
    plan = models.ForeignKey(CommissionPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="payouts")
    plan_version = models.ForeignKey(
        PlanVersion, verbose_name=_("plan version"), on_delete=models.PROTECT, related_name="payouts"
    )
    gross = models.DecimalField(_("gross"), **MONEY_FIELD)
    multiplier = models.DecimalField(_("multiplier"), max_digits=16, decimal_places=8)
    uncapped = models.DecimalField(_("before cap"), **MONEY_FIELD)
    commission = models.DecimalField(_("commission"), **MONEY_FIELD)
    clawback = models.DecimalField(_("clawback"), **MONEY_FIELD)
    adjustments = models.DecimalField(_("adjustments"), default=0, **MONEY_FIELD)
    carried_balance = models.DecimalField(_("carried balance"), **MONEY_FIELD)
    total = models.DecimalField(_("total"), **MONEY_FIELD)
    carry_forward = models.DecimalField(_("carried to next payout"), default=0, **MONEY_FIELD)
    currency = models.CharField(_("currency"), max_length=3, default=settings.CURRENCY)
    status = models.CharField(_("status"), max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.CALCULATED)
    recompute_needed = models.BooleanField(
        _("to recompute"),
        default=False,
        help_text=_("a calibration changed a grade or score after this payout was computed: close the cycle again"),
    )
    hold_reason = models.TextField(_("hold reason"), blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["cycle", "staff__employee_no"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "staff", "plan"], name="payout_one_per_cycle_plan"),
            models.CheckConstraint(condition=Q(total__gte=0), name="payout_total_not_negative"),
        ]
        indexes = [models.Index(fields=["cycle", "status"])]

    def __str__(self):
        return f"{self.cycle} · {self.staff} · {self.plan.name}"

    @property
    def locked(self) -> bool:
        return self.status in LOCKED_PAYOUT_STATES


class LineKind(models.TextChoices):
    ORDER = "order", _("Order")
    MODIFIER = "modifier", _("Modifier")
    CAP = "cap", _("Cap")
    CLAWBACK = "clawback", _("Clawback")
    CARRIED = "carried", _("Carried balance")
    ADJUSTMENT = "adjustment", _("Manual adjustment")
    PK_BONUS = "pk_bonus", _("Ranking bonus")


class PayoutLine(models.Model):
    """One line of a statement: enough to redo the payout by hand.

    Every reference is a database foreign key (payroll records do not rely on the ORM alone).
    A close writes one line per order (150,000 for 5,000 staff); the order's own index is
    ``(order, kind)`` (also used for clawbacks), and the rarely set source cycle and author
    are indexed only where set.
    """

    payout = models.ForeignKey(Payout, verbose_name=_("payout"), on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=16, choices=LineKind.choices)
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    source_cycle = models.ForeignKey(
        AppraisalCycle,
        verbose_name=_("paid in cycle"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    label = models.CharField(_("description"), max_length=200)
    base = models.DecimalField(_("base"), null=True, blank=True, **MONEY_FIELD)
    rate = models.DecimalField(_("rate"), max_digits=16, decimal_places=8, null=True, blank=True)
    amount = models.DecimalField(_("amount"), null=True, blank=True, **MONEY_FIELD)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    history = HistoricalRecords()  # manual adjustments; computed lines are rewritten by each close

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["order", "kind"]),
            # the few manual adjustments, found without reading a cycle's order lines
            models.Index(fields=["payout"], condition=Q(kind="adjustment"), name="payoutline_adjustments"),
            # what deleting a cycle or a login looks up (SET_NULL); most lines have neither
            models.Index(
                fields=["source_cycle"], condition=Q(source_cycle__isnull=False), name="payoutline_source_cycle"
            ),
            models.Index(fields=["created_by"], condition=Q(created_by__isnull=False), name="payoutline_created_by"),
        ]

    def __str__(self):
        """Which line finance is asked about: the payout, the line's kind and what it says."""
        return f"{self.payout} · {self.get_kind_display()} · {self.label}"


class ExportBatch(models.Model):
    cycle = models.ForeignKey(
        AppraisalCycle, verbose_name=_("cycle"), on_delete=models.PROTECT, related_name="export_batches"
    )
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("exported by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    exported_at = models.DateTimeField(_("exported at"), auto_now_add=True)
    file_format = models.CharField(_("format"), max_length=8)
    checksum = models.CharField(_("SHA-256"), max_length=64)
    payout_count = models.PositiveIntegerField(_("payouts"))
    total = models.DecimalField(_("total"), **MONEY_FIELD)
    payouts = models.ManyToManyField(Payout, verbose_name=_("payouts"), related_name="export_batches")
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    content = models.BinaryField(_("file content"), default=b"", editable=False)  # downloaded again, byte for byte
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("payroll export")
        verbose_name_plural = _("payroll exports")
        ordering = ["-exported_at"]

    def __str__(self):
        return _("Payroll export %(n)s of %(cycle)s") % {"n": self.pk, "cycle": self.cycle}


class CycleBudget(models.Model):
    """What finance planned to pay for a cycle, checked before approval."""

    cycle = models.OneToOneField(
        AppraisalCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="budget"
    )
    amount = models.DecimalField(_("budget"), **MONEY_FIELD)
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("cycle budget")
        verbose_name_plural = _("cycle budgets")

    def __str__(self):
        return _("Budget of %(cycle)s") % {"cycle": self.cycle}


class QueryStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("statement question status", "Open")
    ANSWERED = "answered", _("Answered")


class StatementQuery(models.Model):
    """A staff member's question on a line of their statement, answered by finance."""

    payout = models.ForeignKey(Payout, verbose_name=_("payout"), on_delete=models.CASCADE, related_name="queries")
    line = models.ForeignKey(
        PayoutLine,
        verbose_name=_("statement line"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queries",
    )
    question = models.TextField(_("question"))
    answer = models.TextField(_("answer"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    asked_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("statement query")
        verbose_name_plural = _("statement queries")
        ordering = ["-asked_at"]

    def __str__(self):
        """The member, the cycle and the line the question is about."""
        about = self.line.label if self.line_id and self.line else _("the whole statement")
        return _("Question from %(staff)s on %(cycle)s: %(about)s") % {
            "staff": self.payout.staff,
            "cycle": self.payout.cycle,
            "about": about,
        }
