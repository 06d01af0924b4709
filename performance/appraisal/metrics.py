"""The metric catalog: every metric of the contract, computed set-based.

One aggregate query per metric family for a whole batch of staff (conditional
aggregation), never a query per person. Adding a metric is one entry in a family's
``produces`` tuple and its formula in the family function.
"""

import datetime
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from performance.common.money import round_half_up
from performance.common.windows import window_bounds
from performance.qa.models import Inspection
from performance.qa.selectors import COMPLETED
from performance.records.models import Order, Ticket, TicketKind
from performance.sla.breach import met_q
from performance.sla.models import Complaint


class MetricResult(NamedTuple):
    """A value as numerator / denominator so it stays exact; denominator 0 = undefined.

    Counts stay ``int`` and amounts ``Decimal`` (both exact and far cheaper than fractions
    over thousands of members); ``value`` gives the exact ``Fraction``. A tuple: a close
    makes one per metric per member.
    """

    numerator: int | Decimal | Fraction
    denominator: int | None = None  # None: a plain value, not a ratio

    @property
    def value(self) -> Fraction | None:
        if self.denominator is None:
            return Fraction(self.numerator)
        if self.denominator == 0:
            return None
        return Fraction(self.numerator) / self.denominator

    def to_json(self) -> list:
        """``[numerator, denominator]`` as stored in ``MemberMetrics.values`` (exact, no floats)."""
        return [_json_number(self.numerator), self.denominator]


def _json_number(number):
    if type(number) is int:
        return number
    return str(round_half_up(number, 6))  # amounts have 2 places, durations 6: exact


def value_from_json(pair) -> Fraction | None:
    """The exact value of a stored ``[numerator, denominator]``; ``None`` when undefined."""
    numerator, denominator = pair
    if denominator is None:
        return Fraction(numerator)
    if not denominator:
        return None
    if type(numerator) is int:
        return Fraction(numerator, denominator)
    return Fraction(numerator) / denominator


class StoredMetrics(Mapping):
    """One member's stored metrics, each made an exact ``Fraction`` when first read.

    A close reads every member's metrics but scores only the few its template names.
    """

    __slots__ = ("_raw", "_exact")

    def __init__(self, raw: dict):
        self._raw, self._exact = raw, {}

    def __getitem__(self, code):
        try:
            return self._exact[code]
        except KeyError:
            value = self._exact[code] = value_from_json(self._raw[code])
            return value

    def __iter__(self):
        return iter(self._raw.keys() | self._exact.keys())

    def __len__(self):
        return len(self._raw.keys() | self._exact.keys())

    def __bool__(self):
        return bool(self._raw or self._exact)

    def set(self, code, value) -> None:
        """Add a value that is already exact (an imported metric)."""
        self._exact[code] = value


def ratio(num, den) -> MetricResult:
    return MetricResult(num or 0, den or 0)


def seconds(delta) -> int | Fraction:
    if delta is None:
        return 0
    whole = delta.days * 86400 + delta.seconds
    return whole + Fraction(delta.microseconds, 1_000_000) if delta.microseconds else whole


FAMILIES = []


def family(*produces):
    def register(fn):
        FAMILIES.append((produces, fn))
        return fn

    return register


TICKET_RATES = (
    "first_response_rate_2m",
    "avg_response_rate_3m",
    "satisfaction_rate",
    "resolution_rate",
    "fcr_rate",
    "avg_handle_seconds",
    "conversion_rate",
)


@family("tickets_handled", *TICKET_RATES)
def ticket_metrics(staff_ids, start, end, now):
    # Everything read here is in the ``ticket_member_window`` index (member, date, then the
    # columns below): a chunk reads only its own members' index entries of the window.
    # Conversion asks, per inquiry ticket only, whether a paid order names it
    # (``order_ticket_paid``): a chunk reads the orders of its own tickets, not every order
    # that names a ticket (which each chunk would read again).
    named_by_paid_order = Exists(Order.objects.filter(ticket_id=OuterRef("id"), paid_at__lt=end))
    rows = (
        Ticket.objects.filter(staff_id__in=staff_ids, created_at__gte=start, created_at__lt=end)
        .values("staff_id")
        .annotate(
            n=Count("id"),
            frt_ok=Count("id", filter=Q(first_response_at__lte=F("created_at") + datetime.timedelta(seconds=120))),
            avg_n=Count("id", filter=Q(avg_response_seconds__isnull=False)),
            avg_ok=Count("id", filter=Q(avg_response_seconds__lte=Decimal(180))),  # exact: 180.5 misses
            rated=Count("id", filter=Q(rating__isnull=False)),
            satisfied=Count("id", filter=Q(rating__gte=4)),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
            fcr=Count("id", filter=Q(resolved_at__isnull=False, reopened=False)),
            handle=Sum(ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())),
            inquiries=Count("id", filter=Q(kind=TicketKind.INQUIRY)),
            converted=Count("id", filter=Q(kind=TicketKind.INQUIRY) & Q(named_by_paid_order)),
        )
        .order_by()
    )
    out = {}
    for r in rows:
        out[r["staff_id"]] = {
            "tickets_handled": MetricResult(r["n"]),
            "first_response_rate_2m": ratio(r["frt_ok"], r["n"]),
            "avg_response_rate_3m": ratio(r["avg_ok"], r["avg_n"]),
            "satisfaction_rate": ratio(r["satisfied"], r["rated"]),
            "resolution_rate": ratio(r["resolved"], r["n"]),
            "fcr_rate": ratio(r["fcr"], r["resolved"]),
            "avg_handle_seconds": MetricResult(seconds(r["handle"]), r["resolved"]),
            "conversion_rate": ratio(r["converted"], r["inquiries"]),
        }
    empty = {
        "tickets_handled": MetricResult(0),
        **{code: ratio(0, 0) for code in TICKET_RATES},
    }
    return out, empty


@family("qa_pass_rate")
def qa_metrics(staff_ids, start, end, now):
    # From the completed inspections, each looking up its own ticket (member and date): a join
    # from the tickets' side would read every window ticket of the chunk a second time.
    member = Ticket.objects.filter(pk=OuterRef("ticket_id"), created_at__gte=start, created_at__lt=end)
    rows = (
        Inspection.objects.filter(status__in=COMPLETED)
        .annotate(member=Subquery(member.values("staff_id")[:1]))
        .filter(member__in=staff_ids)
        .values("member")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(passed=True)))
        .order_by()
    )
    return {r["member"]: {"qa_pass_rate": ratio(r["ok"], r["n"])} for r in rows}, {"qa_pass_rate": ratio(0, 0)}


@family("complaint_count", "complaint_sla_rate")
def complaint_metrics(staff_ids, start, end, now):
    window = Q(received_at__gte=start, received_at__lt=end)
    against = (
        Complaint.objects.filter(window, staff_id__in=staff_ids).values("staff_id").annotate(n=Count("id")).order_by()
    )
    handled = (
        Complaint.objects.filter(window, handler_id__in=staff_ids)
        .values("handler_id")
        .annotate(n=Count("id"), met=Count("id", filter=met_q(now)))
        .order_by()
    )
    out = {}
    for r in against:
        out.setdefault(r["staff_id"], {})["complaint_count"] = MetricResult(r["n"])
    for r in handled:
        out.setdefault(r["handler_id"], {})["complaint_sla_rate"] = ratio(r["met"], r["n"])
    return out, {"complaint_count": MetricResult(0), "complaint_sla_rate": ratio(0, 0)}


@family("orders_count", "sales_amount", "avg_order_value", "refund_rate")
def order_metrics(staff_ids, start, end, now):
    refunded = Q(refunded_at__lt=end)
    rows = (
        Order.objects.filter(staff_id__in=staff_ids, paid_at__gte=start, paid_at__lt=end)
        .values("staff_id")
        .annotate(
            n=Count("id"),
            amount=Sum("amount"),
            refunded=Sum("refunded_amount", filter=refunded),
            refunds=Count("id", filter=refunded & Q(refunded_amount__gt=0)),
        )
        .order_by()
    )
    out = {}
    for r in rows:
        sales = (r["amount"] or Decimal(0)) - (r["refunded"] or Decimal(0))  # exact: both have 2 places
        out[r["staff_id"]] = {
            "orders_count": MetricResult(r["n"]),
            "sales_amount": MetricResult(sales),
            "avg_order_value": MetricResult(sales, r["n"]),
            "refund_rate": ratio(r["refunds"], r["n"]),
        }
    return out, {
        "orders_count": MetricResult(0),
        "sales_amount": MetricResult(Decimal(0)),
        "avg_order_value": ratio(0, 0),
        "refund_rate": ratio(0, 0),
    }


@family("retention_rate")
def retention_metrics(staff_ids, start, end, now):
    tz = ZoneInfo(settings.TIME_ZONE)
    renewal = Order.objects.filter(
        customer_id=OuterRef("customer_id"),
        is_renewal=True,
        paid_at__gte=start - datetime.timedelta(days=30),
        paid_at__lt=end,
    )
    rows = (
        Order.objects.filter(
            staff_id__in=staff_ids,
            paid_at__lt=end,
            term_end__gte=start.astimezone(tz).date(),
            term_end__lt=end.astimezone(tz).date(),
        )
        .values("staff_id")
        .annotate(
            due=Count("customer_id", distinct=True),
            renewed=Count("customer_id", distinct=True, filter=Q(Exists(renewal))),
        )
        .order_by()
    )
    return {r["staff_id"]: {"retention_rate": ratio(r["renewed"], r["due"])} for r in rows}, {
        "retention_rate": ratio(0, 0)
    }


COMPUTED_METRICS = tuple(code for produces, _ in FAMILIES for code in produces)


def compute_metrics(staff_ids, start_date, end_date, now=None) -> dict[int, dict[str, MetricResult]]:
    """Every computed metric for every given member: one query per family.

    The members' rows are read through the member indexes (``ticket_member_window``,
    ``order_member_paid`` …), never a whole table: costing one query alone, PostgreSQL's
    planner prefers scanning a small table or a short history whole, which every chunk of a
    close would then do again (docs/performance.md, "how the close spreads"). ``SET LOCAL``
    lasts until the end of the caller's transaction (a chunk's, or the scoring step's).
    """
    start, end = window_bounds(start_date, end_date)
    now = now or timezone.now()
    result = {sid: {} for sid in staff_ids}
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET LOCAL enable_seqscan = off")
                # and no hashed subplan of every order naming a ticket, or of every renewal,
                # each chunk again: too small a hash memory, and they probe per row instead
                cur.execute("SET LOCAL work_mem = '256kB'")
        for _produces, fn in FAMILIES:
            rows, empty = fn(staff_ids, start, end, now)
            for sid in staff_ids:
                result[sid].update(empty)
                result[sid].update(rows.get(sid, {}))
    return result


UNITS = {"sales_amount": "money", "avg_order_value": "money", "avg_handle_seconds": "seconds"}


def unit_of(code: str) -> str:
    """How a person reads a metric's value (``common.formatting.value_display``): rates as %,
    amounts with currency, seconds as a duration, counts grouped; imported metrics as numbers."""
    if code in UNITS:
        return UNITS[code]
    if code.endswith("_rate") or code.endswith("_rate_2m") or code.endswith("_rate_3m"):
        return "rate"
    if code in COMPUTED_METRICS:
        return "count"
    return "number"
