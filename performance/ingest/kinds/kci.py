"""KCI ratings of a cycle: each within its item's scale, as the rating form checks them."""

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from performance.appraisal.models import KciRating
from performance.appraisal.rules import Rating
from performance.appraisal.selectors import kci_items
from performance.org.models import Staff
from performance.org.selectors import employee_ids

from ..locks import CycleNames
from ..parsers import parse_decimal, parse_str
from ..schema import Column, ErrorLog, Schema
from .base import Imported, register, resolve_employee

SCHEMA = Schema(
    Column("cycle", parse_str(100), required=True, export="cycle__name"),
    Column("employee_no", parse_str(32), required=True, export="staff__employee_no"),
    Column("indicator", parse_str(32), required=True),
    Column("rating", parse_decimal, required=True),
    Column("comment", str, default=""),
    Column("rated_by", parse_str(32), export="rated_by__employee_no"),
)


@register("kci", model=KciRating, schema=SCHEMA, key=("cycle", "employee_no", "indicator"))
def import_kci(header, rows, *, actor=None, reason=None) -> Imported:
    index = SCHEMA.check_header(header)
    errors, cycles, staff = ErrorLog(), CycleNames(), employee_ids()
    roles = dict(Staff.objects.values_list("id", "role"))
    items = {}  # cycle id -> {(role, item code): item}
    parsed, seen = [], {}
    for number, values in rows:
        r = SCHEMA.parse(number, values, index, errors)
        if r is None:
            continue
        cycle = cycles.resolve(number, r["cycle"], errors)
        sid = resolve_employee(staff, number, "employee_no", r["employee_no"], errors)
        rater = resolve_employee(staff, number, "rated_by", r["rated_by"], errors)
        if cycle is None or sid is None:
            continue
        if cycle.pk not in items:
            items[cycle.pk] = {(role, i.code): i for role, codes in kci_items(cycle=cycle).items() for i in codes}
        item = items[cycle.pk].get((roles[sid], r["indicator"]))
        if item is None:
            errors.add(
                number,
                "indicator",
                _("%(v)r is not a rated (KCI) indicator of this member's template in %(c)s")
                % {"v": r["indicator"], "c": cycle.name},
            )
            continue
        problem = Rating.out_of_scale(r["rating"], item.params)
        if problem:
            errors.add(number, "rating", problem)
        key = (cycle.pk, sid, r["indicator"])
        if key in seen:
            errors.add(number, "indicator", _("duplicate of row %(first)s in this file") % {"first": seen[key]})
        seen[key] = number
        parsed.append((cycle, sid, r, rater))
    errors.raise_if_any()
    existing = {
        (k.cycle_id, k.staff_id, k.indicator): k
        for k in KciRating.objects.filter(
            cycle__in={c.pk for c, *_ in parsed}, staff_id__in={s for _c, s, *_ in parsed}
        )
    }
    new, changed = [], []
    for cycle, sid, r, rater in parsed:
        obj = existing.get((cycle.pk, sid, r["indicator"]))
        if obj is None:
            new.append(
                KciRating(
                    cycle=cycle,
                    staff_id=sid,
                    indicator=r["indicator"],
                    rating=r["rating"],
                    comment=r["comment"],
                    rated_by_id=rater,
                )
            )
        else:
            obj.rating, obj.comment, obj.rated_by_id = r["rating"], r["comment"], rater
            changed.append(obj)
    if new:
        bulk_create_with_history(new, KciRating, default_user=actor, default_change_reason=reason)
    if changed:
        bulk_update_with_history(
            changed, KciRating, ["rating", "comment", "rated_by"], default_user=actor, default_change_reason=reason
        )
    return Imported(rows=len(parsed), created=len(new))
