"""Staff: the organisation file, with teams, managers in the same file, logins and groups."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from performance.org.models import Role, Staff
from performance.org.selectors import employee_ids
from performance.org.services import staff_upsert_many

from ..parsers import parse_bool, parse_choice, parse_date, parse_str
from ..schema import Column, ErrorLog, Schema
from .base import Imported, register

SCHEMA = Schema(
    Column("employee_no", parse_str(32), required=True),
    Column("name", parse_str(100), required=True),
    Column("email", parse_str(254), default=""),
    Column("team", parse_str(100), required=True, export="team__name"),
    Column("role", parse_choice(Role.values), required=True),
    Column("manager", parse_str(32), export="manager__employee_no"),
    Column("hired_on", parse_date),
    Column("active", parse_bool, default=True),
)


@register("staff", model=Staff, schema=SCHEMA, key=("employee_no",))
def import_staff(header, rows, *, actor=None, reason=None) -> Imported:
    index = SCHEMA.check_header(header)
    errors = ErrorLog()
    parsed, seen = [], {}
    for number, values in rows:
        r = SCHEMA.parse(number, values, index, errors)
        if r is None:
            continue
        if r["employee_no"] in seen:
            errors.add(
                number,
                "employee_no",
                _("duplicate of row %(first)s in this file (%(v)s)")
                % {"v": r["employee_no"], "first": seen[r["employee_no"]]},
            )
        seen[r["employee_no"]] = number
        if r["email"]:
            try:
                validate_email(r["email"])
            except ValidationError:
                errors.add(number, "email", _("%(v)r is not an email address") % {"v": r["email"]})
        parsed.append((number, r))
    known = employee_ids()
    for number, r in parsed:
        if r["manager"] and r["manager"] not in known and r["manager"] not in seen:
            errors.add(number, "manager", _("unknown employee_no %(v)r") % {"v": r["manager"]})
        if r["manager"] == r["employee_no"]:
            errors.add(number, "manager", _("a member cannot manage themself (%(v)s)") % {"v": r["employee_no"]})
    errors.raise_if_any()
    created = staff_upsert_many(members=[r for _n, r in parsed], actor=actor, reason=reason)
    return Imported(rows=len(parsed), created=created)
