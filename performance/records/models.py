"""Service records: the tickets and orders the metrics are computed from."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from performance.common.money import MONEY_FIELD
from performance.org.models import Staff


class Channel(models.TextChoices):
    CHAT = "chat", _("Online chat")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    SOCIAL = "social", _("Social media")


class TicketKind(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    SUPPORT = "support", _("Support")
    AFTERSALES = "aftersales", _("After-sales")


class Ticket(models.Model):
    # unique by ``ticket_external_id_unique``: a plain unique index, without the LIKE-pattern
    # twin Django adds to a unique CharField (no query searches by prefix; an import paid for it)
    external_id = models.CharField(_("external id"), max_length=64)
    # indexed by ``ticket_member_window``, which leads with it
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TicketKind.choices, default=TicketKind.SUPPORT)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.CHAT)
    customer_id = models.CharField(_("customer"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    # Helpdesk exports give averages with decimals (180.5): kept exact, to the microsecond.
    avg_response_seconds = models.DecimalField(
        _("average response (s)"),
        max_digits=16,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    reopened = models.BooleanField(_("reopened"), default=False)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True, db_default="")
    url = models.URLField(
        _("conversation link"),
        max_length=500,
        blank=True,
        db_default="",
        help_text=_("the ticket in the source system"),
    )
    # records.keys.sample_key(external_id): written with the ticket, read by the QA draw
    qa_key = models.BigIntegerField(_("QA sampling key"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # A member's tickets of a window, with every column the close's ticket metrics and
            # the QA draw read: a close chunk (and a draw) reads only its members' index entries,
            # never the table, whatever order the tickets arrived in (docs/performance.md).
            models.Index(
                fields=["staff", "created_at"],
                include=[
                    "first_response_at",
                    "resolved_at",
                    "avg_response_seconds",
                    "rating",
                    "reopened",
                    "kind",
                    "qa_key",
                    "id",
                ],
                name="ticket_member_window",
            ),
            models.Index(fields=["created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="ticket_external_id_unique"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="ticket_rating_1_5",
            ),
            models.CheckConstraint(
                condition=Q(avg_response_seconds__isnull=True) | Q(avg_response_seconds__gte=0),
                name="ticket_avg_response_not_negative",
            ),
        ]

    def __str__(self):
        return self.external_id


class ProductCategory(models.Model):
    """The words a person reads for a product category code (orders and plans keep the code)."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Order(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    # indexed by ``order_member_paid``, which leads with it
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    customer_id = models.CharField(_("customer"), max_length=64, db_index=True)
    product_category = models.CharField(_("product category"), max_length=64)
    amount = models.DecimalField(_("amount"), **MONEY_FIELD)
    ordered_at = models.DateTimeField(_("ordered at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("inquiry ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        db_index=False,  # indexed by ``order_ticket_paid``
    )
    is_renewal = models.BooleanField(_("renewal"), default=False)
    term_end = models.DateField(_("service term ends"), null=True, blank=True)
    refunded_amount = models.DecimalField(_("refunded amount"), default=0, **MONEY_FIELD)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            # a member's paid orders of a window with what the order metrics read (index-only)
            models.Index(
                fields=["staff", "paid_at"],
                include=["amount", "refunded_amount", "refunded_at"],
                name="order_member_paid",
            ),
            # conversion: is an inquiry ticket named by an order paid before the end?
            models.Index(fields=["ticket"], include=["paid_at"], name="order_ticket_paid"),
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
