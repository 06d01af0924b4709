"""Payout computation: the commission side of a cycle's close.

Set-based reads, pure arithmetic (``calc``), bulk writes. The functions in the first
section are connected to the appraisal side's hooks in ``CommissionConfig.ready()``.
"""

import datetime
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from performance.appraisal.close import cycle_metric_map
from performance.appraisal.metrics import compute_metrics, unit_of
from performance.appraisal.selectors import cycle_members, effective_grades
from performance.common.bulk import copy_insert
from performance.common.formatting import grade_label, value_display
from performance.common.money import round_half_up, round_money
from performance.common.numbers import frac
from performance.common.windows import window_bounds
from performance.models import AppraisalCycle, Order, ProductCategory, Staff

from . import calc
from .definitions import version_in_force
from .models import (
    LOCKED_PAYOUT_STATES,
    CommissionPlan,
    CyclePlan,
    LineKind,
    Payout,
    PayoutLine,
    PayoutStatus,
    Period,
    PlanVersion,
    StatementQuery,
)

PERIOD_MONTHS = {Period.QUARTERLY: 3, Period.ANNUAL: 12}


# --- connected to the appraisal side's hooks (see CommissionConfig.ready) ---------


def cycle_attach_plans(*, cycle: AppraisalCycle, plans=None) -> None:
    """Pin, for each plan, the version in force at the cycle's start (all active plans by default)."""
    chosen = CommissionPlan.objects.filter(active=True)
    if plans:
        chosen = CommissionPlan.objects.filter(code__in=plans)
        missing = set(plans) - set(chosen.values_list("code", flat=True))
        if missing:
            raise ValidationError(_("No commission plan with code %(code)s.") % {"code": ", ".join(sorted(missing))})
    versions = []
    for plan in chosen.order_by("code"):
        version = version_in_force(plan, cycle.start)
        if version is None:
            if plans:
                raise ValidationError(
                    _("Plan %(code)s has no version in force on %(date)s.") % {"code": plan.code, "date": cycle.start}
                )
            continue
        versions.append(version)
    assert_one_plan_per_role(versions=versions)
    for version in versions:
        CyclePlan.objects.get_or_create(cycle=cycle, plan_version=version)


def assert_one_plan_per_role(*, versions) -> None:
    """Contract, "Edge rules": one commission plan per role in a cycle; two that name a role are refused.

    A cycle's plans are pinned only here (``cycle_create``'s ``cycle_created`` hook), so every
    door that makes a cycle through ``cycle_create`` (the command, ``seed_demo``, the admin's
    add form) refuses the same way, with the same message.
    """
    payer = {}
    for version in versions:
        for role in version.roles:
            first = payer.setdefault(role, version)
            if first.plan_id != version.plan_id:
                raise ValidationError(
                    _("Plans %(first)s and %(second)s both pay role %(role)s: a cycle takes one plan per role.")
                    % {"first": first.plan.code, "second": version.plan.code, "role": role}
                )


def cycle_plan_roles(*, cycle: AppraisalCycle) -> set[str]:
    """The roles the cycle's plans pay: they are closed with the cycle even without a template."""
    roles = set()
    for version in PlanVersion.objects.filter(cycle_plans__cycle=cycle):
        roles |= set(version.roles)
    return roles


def cycle_assert_payouts_open(*, cycle: AppraisalCycle) -> None:
    """Refuse to recompute a cycle while finance has payouts of it approved."""
    locked = Payout.objects.filter(cycle=cycle, status__in=LOCKED_PAYOUT_STATES).count()
    if locked:
        raise ValidationError(
            _("Cycle %(name)s has %(n)d approved payouts: unlock them before recomputing.")
            % {"name": cycle.name, "n": locked}
        )


def payouts_mark_recompute(*, cycle: AppraisalCycle, staff_ids) -> int:
    """A calibration changed these members' results: their payouts not yet approved must be recomputed."""
    return Payout.objects.filter(
        cycle=cycle, staff_id__in=staff_ids, status__in=(PayoutStatus.CALCULATED, PayoutStatus.ON_HOLD)
    ).update(recompute_needed=True)


def locked_cycle_ids():
    """Cycles with approved, exported or paid payouts: their inputs are locked."""
    return Payout.objects.filter(status__in=LOCKED_PAYOUT_STATES).values("cycle_id")


# --- computation ------------------------------------------------------------------------


def period_window(version: PlanVersion, cycle: AppraisalCycle) -> tuple[datetime.date, datetime.date] | None:
    """The dates a payout covers; monthly plans pay every cycle, the others on the cycle ending their period."""
    months = PERIOD_MONTHS.get(version.period)
    if months is None:
        return cycle.start, cycle.end
    end = cycle.end
    if end.day != 1 or (end.month - 1) % months:
        return None
    start_month_index = end.year * 12 + end.month - 1 - months
    return datetime.date(start_month_index // 12, start_month_index % 12 + 1, 1), end


def cycle_payouts_compute(*, cycle: AppraisalCycle, metrics=None) -> None:
    """One Payout per member per plan: set-based reads, then pure arithmetic, then bulk writes.

    ``metrics``: every member's metrics of the cycle, when the close has read them already.
    """
    cycle_assert_payouts_open(cycle=cycle)
    versions = list(
        PlanVersion.objects.filter(cycle_plans__cycle=cycle).select_related("plan").prefetch_related("rates")
    )
    grades = effective_grades(cycle=cycle)
    cycle_metrics = metrics
    kept = []
    for version in versions:
        window = period_window(version, cycle)
        if window is None:
            continue
        members = cycle_members(cycle=cycle, roles=version.roles)
        staff_ids = [m[0] for m in members]
        if window == (cycle.start, cycle.end):
            if cycle_metrics is None:
                cycle_metrics = cycle_metric_map(cycle=cycle)
            version_metrics = cycle_metrics
        else:
            version_metrics = {
                sid: {k: r.value for k, r in vals.items()}
                for sid, vals in compute_metrics(staff_ids, *window, now=cycle.closing_started_at).items()
            }
        kept.extend(_compute_version(cycle, version, members, window, version_metrics, grades))
    Payout.objects.filter(cycle=cycle).exclude(pk__in=kept).delete()


def _compute_version(cycle, version, members, window, metrics, grades) -> list[int]:
    start, end = window_bounds(*window)
    staff_ids = [m[0] for m in members]
    employee_no = {m[0]: m[1] for m in members}
    rates = {r.category: r.rate for r in version.rates.all()}
    default_rate = version.default_rate
    high_value_min, extra_rate = version.high_value_min_amount, version.high_value_extra_rate
    orders: dict[int, list] = {sid: [] for sid in staff_ids}
    for o in (
        Order.objects.filter(staff_id__in=staff_ids, paid_at__gte=start, paid_at__lt=end)
        .order_by("paid_at", "external_id")
        .values_list("staff_id", "id", "external_id", "product_category", "amount", "refunded_amount", "refunded_at")
        .iterator(chunk_size=20000)
    ):
        orders[o[0]].append(o)

    # Clawbacks: orders paid in an earlier cycle, refunded in this window, within the clawback window,
    # at the rate, multiplier and cap factor of the payout they were paid under.
    clawbacks: dict[int, list] = {sid: [] for sid in staff_ids}
    earlier_lines = (
        PayoutLine.objects.filter(
            kind=LineKind.ORDER,
            payout__plan=version.plan,
            payout__staff_id__in=staff_ids,
            order__paid_at__lt=start,
            order__refunded_at__gte=start,
            order__refunded_at__lt=end,
            order__refunded_amount__gt=0,
            payout__cycle__start__lt=cycle.start,
        )
        .filter(order__refunded_at__lte=F("order__paid_at") + datetime.timedelta(days=version.clawback_days))
        .values(
            "order_id",
            "order__external_id",
            "order__refunded_amount",
            "rate",
            "payout__staff_id",
            "payout__cycle_id",
            "payout__cycle__name",
            "payout__multiplier",
            "payout__commission",
            "payout__uncapped",
        )
        .order_by("order__refunded_at", "order__external_id")
    )
    for line in earlier_lines:
        clawbacks[line["payout__staff_id"]].append(line)

    previous = Payout.objects.filter(staff_id=OuterRef("pk"), plan=version.plan, cycle__start__lt=cycle.start).order_by(
        "-cycle__start"
    )
    carried = dict(
        Staff.objects.filter(pk__in=staff_ids)
        .annotate(carried=Subquery(previous.values("carry_forward")[:1]))
        .values_list("pk", "carried")
    )
    adjustments = {sid: total for sid, total in _adjustment_totals(cycle, version.plan, staff_ids).items()}
    pk_bonus = _pk_bonus(version, staff_ids, employee_no, metrics)

    now = timezone.now()
    existing = {p.staff_id: p for p in Payout.objects.filter(cycle=cycle, plan=version.plan)}
    order_label, extra_label = _("Order %(order)s · %(category)s"), " · " + _("high-value extra")  # once, not per line
    category_names = dict(ProductCategory.objects.values_list("code", "name"))
    payouts, lines_by_staff = {}, {}
    for sid in staff_ids:
        lines = []
        order_amounts = []
        if version.tiers and version.quota is not None:
            net_sales = Decimal("0.00")
            for _sid, _id, _eid, _category, amount, refunded, refunded_at in orders[sid]:
                in_window = refunded_at is not None and refunded_at < end
                net_sales += amount - (refunded if in_window else 0)
            for start_at, rate, portion, amount in calc.tiered_lines(
                sales=net_sales, quota=version.quota, tiers=version.tiers
            ):
                lines.append(
                    _Line(
                        kind=LineKind.ORDER,
                        base=portion,
                        rate=_dec(rate),
                        amount=amount,
                        label=_("Sales from %(pct)s%% of quota") % {"pct": _dec(start_at * 100)},
                    )
                )
                order_amounts.append(amount)
        else:
            for _sid, order_id, external_id, category, amount, refunded, refunded_at in orders[sid]:
                line = calc.order_line(
                    amount=amount,
                    refunded=refunded,
                    refunded_in_window=refunded_at is not None and refunded_at < end,
                    rate=rates.get(category, default_rate),
                    high_value_min=high_value_min,
                    extra_rate=extra_rate,
                )
                label = order_label % {"order": external_id, "category": category_names.get(category, category)}
                if line.extra:
                    label += extra_label
                lines.append(_Line(LineKind.ORDER, label, order_id, None, line.net, line.rate, line.amount))
                order_amounts.append(line.amount)
        factors = calc.modifier_factors(version.modifiers, metrics.get(sid) or {}, grades.get(sid))
        multiplier = Fraction(1)
        for name, value, factor in factors:
            multiplier *= factor
            shown = str(grade_label(value)) if isinstance(value, str) else value_display(value, unit_of(name))
            lines.append(
                _Line(
                    kind=LineKind.MODIFIER,
                    rate=_dec(factor),
                    label=_("Modifier %(name)s = %(value)s") % {"name": modifier_name(name), "value": shown},
                )
            )
        result = calc.commission(lines=order_amounts, multiplier=multiplier, cap=version.cap)
        if result.commission != result.uncapped:
            lines.append(
                _Line(
                    kind=LineKind.CAP,
                    amount=result.commission - result.uncapped,
                    base=result.uncapped,
                    label=_("Cap of %(cap)s") % {"cap": version.cap},
                )
            )
        claw_total = Decimal("0.00")
        for c in clawbacks[sid]:
            earlier = calc.Commission(
                gross=Decimal(0),
                multiplier=Fraction(c["payout__multiplier"]),
                uncapped=c["payout__uncapped"],
                commission=c["payout__commission"],
            )
            amount = calc.clawback_line(
                refunded=c["order__refunded_amount"],
                rate=Fraction(c["rate"]),
                multiplier=earlier.multiplier,
                cap_factor=earlier.cap_factor,
            )
            claw_total += amount
            lines.append(
                _Line(
                    kind=LineKind.CLAWBACK,
                    order_id=c["order_id"],
                    source_cycle_id=c["payout__cycle_id"],
                    base=c["order__refunded_amount"],
                    rate=c["rate"],
                    amount=amount,
                    label=_("Refund of order %(order)s paid in %(cycle)s")
                    % {"order": c["order__external_id"], "cycle": c["payout__cycle__name"]},
                )
            )
        carried_in = carried.get(sid) or Decimal("0.00")
        if carried_in:
            lines.append(_Line(kind=LineKind.CARRIED, amount=carried_in, label=_("Balance carried from last payout")))
        bonus = pk_bonus.get(sid, Decimal("0.00"))
        if bonus:
            lines.append(
                _Line(
                    kind=LineKind.PK_BONUS,
                    amount=bonus,
                    label=_("Ranking bonus, place %(place)s") % {"place": pk_bonus[("place", sid)]},
                )
            )
        adjust = adjustments.get(sid, Decimal("0.00"))
        total, carry = calc.settle(
            commission=result.commission, clawback=claw_total, carried=carried_in, extra=bonus + adjust
        )
        values = dict(
            plan_version=version,
            gross=result.gross,
            multiplier=_dec(result.multiplier),
            uncapped=result.uncapped,
            commission=result.commission,
            clawback=claw_total,
            carried_balance=carried_in,
            adjustments=adjust,
            total=total,
            carry_forward=carry,
            currency=settings.CURRENCY,
            recompute_needed=False,
        )
        payout = existing.get(sid) or Payout(cycle=cycle, staff_id=sid, plan=version.plan, computed_at=now)
        changed = payout.pk is None or any(
            getattr(payout, "plan_version_id" if k == "plan_version" else k) != (v.pk if k == "plan_version" else v)
            for k, v in values.items()
        )
        for k, v in values.items():
            setattr(payout, k, v)
        payout.computed_at = now
        payout._changed = changed
        payouts[sid] = payout
        lines_by_staff[sid] = lines

    new = [p for p in payouts.values() if p.pk is None]
    changed = [p for p in payouts.values() if p.pk is not None and p._changed]
    if new:
        bulk_create_with_history(new, Payout, batch_size=1000)
    if changed:
        bulk_update_with_history(changed, Payout, [*values.keys(), "computed_at"], batch_size=1000)
    ids = dict(Payout.objects.filter(cycle=cycle, plan=version.plan).values_list("staff_id", "pk"))
    asked = _replace_lines(cycle, version.plan)
    copy_insert(
        PayoutLine,
        LINE_FIELDS,
        ((ids[sid], *line, i) for sid, lines in lines_by_staff.items() for i, line in enumerate(lines)),
    )
    _relink_queries(asked)
    return [ids[sid] for sid in staff_ids]


MODIFIER_NAMES = {
    "grade": gettext_lazy("grade"),
    "satisfaction_rate": gettext_lazy("satisfaction rate"),
    "retention_rate": gettext_lazy("retention rate"),
}


def modifier_name(code: str) -> str:
    """A plan modifier's name in words where the usual ones are concerned, else its metric code."""
    return str(MODIFIER_NAMES.get(code, code))


class _Line(NamedTuple):  # LINE_FIELDS without payout and position; one per order, so a tuple
    kind: str
    label: str = ""
    order_id: int | None = None
    source_cycle_id: int | None = None
    base: Decimal | None = None
    rate: Decimal | None = None
    amount: Decimal | None = None


LINE_FIELDS = ["payout_id", *_Line._fields, "position"]


def _replace_lines(cycle, plan) -> list[tuple]:
    """Remove the computed lines (manual adjustments stay) with one UPDATE and one DELETE.

    Staff questions about a line are unlinked first, so the delete needs no per-row cascade
    (``_raw_delete`` is Django's own bulk path); what they pointed at is returned so that
    ``_relink_queries`` can point them at the recomputed line for the same order or step.
    """
    lines = PayoutLine.objects.filter(payout__cycle=cycle, payout__plan=plan).exclude(kind=LineKind.ADJUSTMENT)
    asked = list(
        StatementQuery.objects.filter(line__in=lines).values_list(
            "pk", "payout_id", "line__kind", "line__order_id", "line__label"
        )
    )
    if asked:
        StatementQuery.objects.filter(pk__in=[a[0] for a in asked]).update(line=None)
    lines._raw_delete(lines.db)
    return asked


def _relink_queries(asked) -> None:
    for pk, payout_id, kind, order_id, label in asked:
        match = PayoutLine.objects.filter(payout_id=payout_id, kind=kind)
        match = match.filter(order_id=order_id) if order_id else match.filter(label=label)
        line = match.order_by("position").first()
        if line is not None:
            StatementQuery.objects.filter(pk=pk).update(line=line)


def _dec(value: Fraction) -> Decimal:
    """A rate or factor stored to 8 places (products of the plan's 2–4 place figures fit exactly)."""
    return round_half_up(value, 8)


def _adjustment_totals(cycle, plan, staff_ids) -> dict[int, Decimal]:
    wanted = set(staff_ids)
    out = {}
    for sid, amount in PayoutLine.objects.filter(
        payout__cycle=cycle, payout__plan=plan, kind=LineKind.ADJUSTMENT
    ).values_list("payout__staff_id", "amount"):
        if sid in wanted:
            out[sid] = out.get(sid, Decimal("0.00")) + amount
    return out


def _pk_bonus(version, staff_ids, employee_no, metrics) -> dict:
    """Fixed prizes for places 1, 2, 3… on a metric among the plan's members (ties by employee_no)."""
    spec = version.pk_bonus or {}
    if not spec:
        return {}
    metric, prizes = spec["metric"], spec["prizes"]
    lower = spec.get("direction", "higher") == "lower"
    scored = [(metrics.get(sid, {}).get(metric), employee_no[sid], sid) for sid in staff_ids]
    scored = [s for s in scored if s[0] is not None]
    scored.sort(key=lambda s: ((frac(s[0]) if lower else -frac(s[0])), s[1]))
    out = {}
    for place, (_value, _eno, sid) in enumerate(scored[: len(prizes)], start=1):
        out[sid] = round_money(frac(prizes[place - 1]))
        out[("place", sid)] = place
    return out
