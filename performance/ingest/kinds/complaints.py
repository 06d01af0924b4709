"""Complaints: due times from the SLA policies at import, staged by COPY, upserted by external_id."""

from django.utils.translation import gettext as _

from performance.org.selectors import employee_ids
from performance.records.models import Channel
from performance.sla.models import Complaint, Priority
from performance.sla.services import DueTimes

from ..locks import LockedWindows
from ..parsers import parse_choice, parse_datetime, parse_str
from ..schema import Column, ErrorLog, Schema
from ..staging import Staging
from .base import Imported, register, resolve_employee

SCHEMA = Schema(
    Column("external_id", parse_str(64), required=True),
    Column("employee_no", parse_str(32), export="staff__employee_no"),
    Column("handler", parse_str(32), export="handler__employee_no"),
    Column("customer_id", parse_str(64), default=""),
    Column("channel", parse_choice(Channel.values), default=Channel.CHAT.value),
    Column("priority", parse_choice(Priority.values), required=True),
    Column("received_at", parse_datetime, required=True),
    Column("first_response_at", parse_datetime),
    Column("resolved_at", parse_datetime),
    Column("confirmed_at", parse_datetime),
    Column("summary", str, default=""),
)
FIELDS = [
    "external_id",
    "staff",
    "handler",
    "customer_id",
    "channel",
    "priority",
    "received_at",
    "first_response_at",
    "resolved_at",
    "confirmed_at",
    "summary",
    "first_response_due",
    "resolution_due",
]


@register("complaints", model=Complaint, schema=SCHEMA, key=("external_id",), table=Complaint._meta.db_table)
def import_complaints(header, rows, *, actor=None, reason=None) -> Imported:
    index = SCHEMA.check_header(header)
    errors, staff, locked, due = ErrorLog(), employee_ids(), LockedWindows(), DueTimes()
    with Staging(Complaint, FIELDS) as stage:
        for number, values in rows:
            r = SCHEMA.parse(number, values, index, errors)
            if r is None:
                continue
            against = resolve_employee(staff, number, "employee_no", r["employee_no"], errors)
            handler = resolve_employee(staff, number, "handler", r["handler"], errors)
            for col in ("first_response_at", "resolved_at", "confirmed_at"):
                if r[col] is not None and r[col] < r["received_at"]:
                    errors.add(
                        number,
                        col,
                        _("is before received_at (%(v)s < %(r)s)")
                        % {"v": r[col].isoformat(), "r": r["received_at"].isoformat()},
                    )
            if r["confirmed_at"] is not None and r["resolved_at"] is None:
                errors.add(
                    number,
                    "confirmed_at",
                    _("a confirmation needs resolved_at (complaint %(id)s, confirmed %(v)s)")
                    % {"id": r["external_id"], "v": r["confirmed_at"].isoformat()},
                )
            locked.check(number, "received_at", r["received_at"], errors)
            if errors.total:
                continue
            first_due, resolution_due = due.for_complaint(r["priority"], r["received_at"])
            stage.write(
                number,
                [
                    r["external_id"],
                    against,
                    handler,
                    r["customer_id"],
                    r["channel"],
                    r["priority"],
                    r["received_at"],
                    r["first_response_at"],
                    r["resolved_at"],
                    r["confirmed_at"],
                    r["summary"],
                    first_due,
                    resolution_due,
                ],
            )
        stage.finish_writes()
        errors.raise_if_any()
        stage.duplicates("external_id", errors, "external_id")
        errors.raise_if_any()
        locked.check_existing(stage, Complaint._meta.db_table, "received_at", errors)
        created = stage.upsert("external_id", history=(actor, reason))
        return Imported(rows=stage.count, created=created)
