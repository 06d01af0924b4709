"""Tickets: a CSV on PostgreSQL set-based (``bulk``), else parsed row by row; upserted by external_id."""

from django.utils.translation import gettext as _

from performance.org.models import Staff
from performance.org.selectors import employee_ids
from performance.records.keys import sample_key_sql
from performance.records.models import Channel, Ticket, TicketKind

from .. import bulk
from ..locks import LockedWindows
from ..parsers import (
    parse_bool,
    parse_choice,
    parse_datetime,
    parse_decimal_places,
    parse_int,
    parse_str,
    parse_url,
)
from ..schema import Column, ErrorLog, Schema
from ..staging import Staging
from .base import Imported, register, resolve_employee

SCHEMA = Schema(
    Column("external_id", parse_str(64), required=True),
    Column("employee_no", parse_str(32), required=True, export="staff__employee_no"),
    Column("kind", parse_choice(TicketKind.values), default=TicketKind.SUPPORT.value),
    Column("channel", parse_choice(Channel.values), default=Channel.CHAT.value),
    Column("customer_id", parse_str(64), default=""),
    Column("created_at", parse_datetime, required=True),
    Column("first_response_at", parse_datetime),
    Column("avg_response_seconds", parse_decimal_places(6, low=0)),  # 180.5: decimals from helpdesk exports
    Column("resolved_at", parse_datetime),
    Column("reopened", parse_bool, default=False),
    Column("rating", parse_int(1, 5)),
    Column("subject", parse_str(200), default=""),
    Column("url", parse_url(500), default=""),
)
FIELDS = [
    "external_id",
    "staff",
    "kind",
    "channel",
    "customer_id",
    "created_at",
    "first_response_at",
    "avg_response_seconds",
    "resolved_at",
    "reopened",
    "rating",
    "subject",
    "url",
]


def bulk_tickets(header, path) -> Imported | None:
    """The set-based path (``ingest.bulk``): the file's text checked and upserted in SQL.

    None when it does not accept the file in full; the caller then runs ``import_tickets``.
    """
    index = SCHEMA.check_header(header)
    if LockedWindows().windows:  # locked cycles: the row-by-row path applies the locks
        return None
    raw = bulk.copy_file(path, len(header))
    cells = bulk.Cells(index, SCHEMA, raw)
    rows = cells.rows()
    staff = f"LEFT JOIN {Staff._meta.db_table} m ON m.employee_no = {cells.raw('employee_no')}"
    checks = [cells.check(column) for column in SCHEMA.columns] + ["m.id IS NOT NULL"]
    for name in ("first_response_at", "resolved_at"):  # canonical, same zone: text orders as time
        later = cells.raw(name)
        if later is not None:
            checks.append(f"({later} = '' OR {later} >= {cells.raw('created_at')})")
    if bulk.count_rejected(rows, checks, staff):
        return None
    values = {"staff_id": "m.id"}
    for column in SCHEMA.columns:
        if column.name != "employee_no":
            values[column.name] = cells.value(column)
    values["qa_key"] = sample_key_sql(cells.raw("external_id"))
    created = bulk.upsert(raw, rows, Ticket, "external_id", values, joins=staff, keep=("qa_key",))
    return Imported(rows=raw.rows, created=created)


@register("tickets", model=Ticket, schema=SCHEMA, key=("external_id",), table=Ticket._meta.db_table, bulk=bulk_tickets)
def import_tickets(header, rows, *, actor=None, reason=None) -> Imported:
    """Tickets have no history of their own (millions of rows): their import batch is their audit."""
    index = SCHEMA.check_header(header)
    errors, staff, locked = ErrorLog(), employee_ids(), LockedWindows()
    with Staging(Ticket, FIELDS) as stage:
        for number, values in rows:
            r = SCHEMA.parse(number, values, index, errors)
            if r is None:
                continue
            sid = resolve_employee(staff, number, "employee_no", r["employee_no"], errors)
            for col in ("first_response_at", "resolved_at"):
                if r[col] is not None and r[col] < r["created_at"]:
                    errors.add(
                        number,
                        col,
                        _("is before created_at (%(v)s < %(c)s)")
                        % {"v": r[col].isoformat(), "c": r["created_at"].isoformat()},
                    )
            locked.check(number, "created_at", r["created_at"], errors)
            if errors.total or sid is None:
                continue
            stage.write(
                number,
                [
                    r["external_id"],
                    sid,
                    r["kind"],
                    r["channel"],
                    r["customer_id"],
                    r["created_at"],
                    r["first_response_at"],
                    r["avg_response_seconds"],
                    r["resolved_at"],
                    r["reopened"],
                    r["rating"],
                    r["subject"],
                    r["url"],
                ],
            )
        stage.finish_writes()
        errors.raise_if_any()
        stage.duplicates("external_id", errors, "external_id")
        errors.raise_if_any()
        locked.check_existing(stage, Ticket._meta.db_table, "created_at", errors)
        created = stage.upsert("external_id", {"qa_key": sample_key_sql("s.external_id")})
        return Imported(rows=stage.count, created=created)
