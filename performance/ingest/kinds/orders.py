"""Orders: staged by COPY, ticket references checked in SQL, upserted by external_id."""

from decimal import Decimal

from django.utils.translation import gettext as _

from performance.org.selectors import employee_ids
from performance.records.models import Order, Ticket

from ..locks import LockedWindows
from ..parsers import parse_bool, parse_date, parse_datetime, parse_money, parse_str
from ..schema import MAX_LISTED, Column, ErrorLog, Schema
from ..staging import Staging
from .base import Imported, register, resolve_employee

SCHEMA = Schema(
    Column("external_id", parse_str(64), required=True),
    Column("employee_no", parse_str(32), required=True, export="staff__employee_no"),
    Column("customer_id", parse_str(64), required=True),
    Column("product_category", parse_str(64), required=True),
    Column("amount", parse_money, required=True),
    Column("ordered_at", parse_datetime, required=True),
    Column("paid_at", parse_datetime),
    Column("ticket", parse_str(64), export="ticket__external_id"),
    Column("is_renewal", parse_bool, default=False),
    Column("term_end", parse_date),
    Column("refunded_amount", parse_money, default=Decimal("0.00")),
    Column("refunded_at", parse_datetime),
)
FIELDS = [
    "external_id",
    "staff",
    "customer_id",
    "product_category",
    "amount",
    "ordered_at",
    "paid_at",
    "is_renewal",
    "term_end",
    "refunded_amount",
    "refunded_at",
]
TICKETS = Ticket._meta.db_table
# what a refund of a locked cycle's order may not change: file column -> "differs" between staged s and stored t
FROZEN = {
    "employee_no": "s.staff_id IS DISTINCT FROM t.staff_id",
    "customer_id": "s.customer_id IS DISTINCT FROM t.customer_id",
    "product_category": "s.product_category IS DISTINCT FROM t.product_category",
    "amount": "s.amount IS DISTINCT FROM t.amount",
    "ordered_at": "s.ordered_at IS DISTINCT FROM t.ordered_at",
    "paid_at": "s.paid_at IS DISTINCT FROM t.paid_at",
    "ticket": f"s._ticket IS DISTINCT FROM (SELECT x.external_id FROM {TICKETS} x WHERE x.id = t.ticket_id)",
    "is_renewal": "s.is_renewal IS DISTINCT FROM t.is_renewal",
    "term_end": "s.term_end IS DISTINCT FROM t.term_end",
}


@register("orders", model=Order, schema=SCHEMA, key=("external_id",), table=Order._meta.db_table)
def import_orders(header, rows, *, actor=None, reason=None) -> Imported:
    index = SCHEMA.check_header(header)
    errors, staff, locked = ErrorLog(), employee_ids(), LockedWindows()
    with Staging(Order, FIELDS, extra={"_ticket": "varchar(64)"}) as stage:
        for number, values in rows:
            r = SCHEMA.parse(number, values, index, errors)
            if r is None:
                continue
            sid = resolve_employee(staff, number, "employee_no", r["employee_no"], errors)
            if r["refunded_amount"] > r["amount"]:
                errors.add(
                    number,
                    "refunded_amount",
                    _("is more than the amount (%(v)s > %(a)s)") % {"v": r["refunded_amount"], "a": r["amount"]},
                )
            if r["refunded_amount"] > 0 and r["refunded_at"] is None:
                errors.add(
                    number,
                    "refunded_at",
                    _("required when refunded_amount is above 0 (it is %(v)s)") % {"v": r["refunded_amount"]},
                )
            if r["paid_at"] is None and r["refunded_amount"] > 0:
                errors.add(
                    number, "paid_at", _("an unpaid order cannot be refunded (order %(id)s)") % {"id": r["external_id"]}
                )
            if errors.total or sid is None:
                continue
            stage.write(
                number,
                [
                    r["external_id"],
                    sid,
                    r["customer_id"],
                    r["product_category"],
                    r["amount"],
                    r["ordered_at"],
                    r["paid_at"],
                    r["is_renewal"],
                    r["term_end"],
                    r["refunded_amount"],
                    r["refunded_at"],
                ],
                [r["ticket"] or None],
            )
        stage.finish_writes()
        errors.raise_if_any()
        stage.duplicates("external_id", errors, "external_id")
        for number, ref in stage.query(
            f"SELECT s._row, s._ticket FROM {{stage}} s LEFT JOIN {TICKETS} t ON t.external_id = s._ticket "
            "WHERE s._ticket IS NOT NULL AND t.id IS NULL ORDER BY s._row LIMIT %s",
            [MAX_LISTED],
        ):
            errors.add(number, "ticket", _("unknown ticket %(v)r") % {"v": ref})
        errors.raise_if_any()
        locked.check_refund_only(stage, Order._meta.db_table, FROZEN, errors)
        created = stage.upsert(
            "external_id",
            {"ticket_id": "t.id"},
            joins=f"LEFT JOIN {TICKETS} t ON t.external_id = s._ticket",
            history=(actor, reason),
        )
        return Imported(rows=stage.count, created=created)
