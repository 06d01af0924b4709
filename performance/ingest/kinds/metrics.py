"""Imported metric values (indicators computed outside, e.g. a content operator's plays)."""

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from performance.appraisal.metrics import COMPUTED_METRICS
from performance.appraisal.models import MetricSource, MetricValue
from performance.org.selectors import employee_ids

from ..locks import CycleNames
from ..parsers import parse_decimal, parse_str
from ..schema import Column, ErrorLog, Schema
from .base import Imported, register, resolve_employee

IMPORTED = MetricSource.IMPORTED
SCHEMA = Schema(
    Column("cycle", parse_str(100), required=True, export="cycle__name"),
    Column("employee_no", parse_str(32), required=True, export="staff__employee_no"),
    Column("metric", parse_str(64), required=True),
    Column("value", parse_decimal, required=True),
)


@register("metrics", model=MetricValue, schema=SCHEMA, key=("cycle", "employee_no", "metric"))
def import_metrics(header, rows, *, actor=None, reason=None) -> Imported:
    index = SCHEMA.check_header(header)
    errors, cycles, staff = ErrorLog(), CycleNames(), employee_ids()
    parsed, seen = [], {}
    for number, values in rows:
        r = SCHEMA.parse(number, values, index, errors)
        if r is None:
            continue
        cycle = cycles.resolve(number, r["cycle"], errors)
        sid = resolve_employee(staff, number, "employee_no", r["employee_no"], errors)
        if r["metric"] in COMPUTED_METRICS:
            errors.add(number, "metric", _("%(v)s is computed from data and cannot be imported") % {"v": r["metric"]})
        if cycle is None or sid is None:
            continue
        key = (cycle.pk, sid, r["metric"])
        if key in seen:
            errors.add(number, "metric", _("duplicate of row %(first)s in this file") % {"first": seen[key]})
        seen[key] = number
        parsed.append((cycle, sid, r))
    errors.raise_if_any()
    existing = {
        (m.cycle_id, m.staff_id, m.metric): m
        for m in MetricValue.objects.filter(
            cycle__in={c.pk for c, _s, _r in parsed}, staff_id__in={s for _c, s, _r in parsed}
        )
    }
    new, changed = [], []
    for cycle, sid, r in parsed:
        value = existing.get((cycle.pk, sid, r["metric"]))
        if value is None:
            new.append(MetricValue(cycle=cycle, staff_id=sid, metric=r["metric"], value=r["value"], source=IMPORTED))
        elif (value.value, value.source, value.numerator, value.denominator) != (r["value"], IMPORTED, None, None):
            value.value, value.source, value.numerator, value.denominator = r["value"], IMPORTED, None, None
            changed.append(value)
    if new:
        bulk_create_with_history(new, MetricValue, default_user=actor, default_change_reason=reason)
    if changed:
        fields = ["value", "source", "numerator", "denominator"]
        bulk_update_with_history(changed, MetricValue, fields, default_user=actor, default_change_reason=reason)
    return Imported(rows=len(parsed), created=len(new))
