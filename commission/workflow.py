"""The finance workflow of payouts: approve, hold, unlock, adjust, export for payroll, mark paid.

``actor`` is always the acting login (a ``User``).
"""

import hashlib
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from performance.common.audit import audited
from performance.common.money import round_money

from . import calc
from .models import ExportBatch, LineKind, Payout, PayoutLine, PayoutStatus


def _transition(payouts, *, allowed_from, to, actor, reason="", stamp=None) -> int:
    moved = []
    now = timezone.now()
    for payout in payouts:
        if payout.status == to:
            continue
        if payout.status not in allowed_from:
            raise ValidationError(
                _("Payout of %(staff)s is %(status)s and cannot become %(to)s.")
                % {"staff": payout.staff, "status": payout.get_status_display(), "to": PayoutStatus(to).label}
            )
        payout.status = to
        if to == PayoutStatus.ON_HOLD:
            payout.hold_reason = reason
        if stamp == "approved":
            payout.approved_by, payout.approved_at = actor, now
        if stamp == "paid":
            payout.paid_at = now
        moved.append(payout)
    if moved:
        bulk_update_with_history(
            moved,
            Payout,
            ["status", "hold_reason", "approved_by", "approved_at", "paid_at"],
            default_user=actor,
            default_change_reason=reason or to,
        )
    return len(moved)


def assert_finance(actor) -> None:
    """Refuse unless the login is Finance (or a superuser)."""
    if not (actor.is_superuser or actor.groups.filter(name="Finance").exists()):
        raise ValidationError(_("Only Finance can do this."))


@transaction.atomic
def payouts_approve(*, payouts, actor) -> int:
    """Calculated (or held) payouts become approved; one a calibration made stale is refused, named."""
    assert_finance(actor)
    stale = [p for p in payouts if p.recompute_needed and p.status != PayoutStatus.APPROVED]
    if stale:
        raise ValidationError(
            _(
                "A calibration changed the results behind the payouts of %(staff)s: close the cycle again to "
                "recompute them before approving."
            )
            % {"staff": ", ".join(str(p.staff) for p in stale[:10])}
        )
    return _transition(
        payouts,
        allowed_from=(PayoutStatus.CALCULATED, PayoutStatus.ON_HOLD),
        to=PayoutStatus.APPROVED,
        actor=actor,
        stamp="approved",
    )


@transaction.atomic
def payouts_hold(*, payouts, actor, reason) -> int:
    assert_finance(actor)
    if not reason:
        raise ValidationError(_("A hold needs a reason."))
    return _transition(
        payouts,
        allowed_from=(PayoutStatus.CALCULATED, PayoutStatus.APPROVED),
        to=PayoutStatus.ON_HOLD,
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def payouts_mark_paid(*, payouts, actor) -> int:
    assert_finance(actor)
    return _transition(payouts, allowed_from=(PayoutStatus.EXPORTED,), to=PayoutStatus.PAID, actor=actor, stamp="paid")


@transaction.atomic
def payouts_unlock(*, payouts, actor, reason) -> int:
    assert_finance(actor)
    if not reason:
        raise ValidationError(_("Unlocking needs a reason."))
    return _transition(
        payouts,
        allowed_from=(PayoutStatus.APPROVED, PayoutStatus.ON_HOLD),
        to=PayoutStatus.CALCULATED,
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def payout_adjust(*, payout, amount: Decimal, reason: str, actor) -> PayoutLine:
    """A manual adjustment line before approval; kept across recomputes and counted in the total."""
    assert_finance(actor)
    if payout.locked:
        raise ValidationError(_("This payout is approved: unlock it first."))
    if not reason:
        raise ValidationError(_("An adjustment needs a reason."))
    amount = round_money(Decimal(amount))
    line = PayoutLine.objects.create(
        payout=payout, kind=LineKind.ADJUSTMENT, amount=amount, label=reason, created_by=actor, position=10_000
    )
    payout.adjustments += amount
    payout.total, payout.carry_forward = calc.settle(
        commission=payout.commission,
        clawback=payout.clawback,
        carried=payout.carried_balance,
        extra=payout.adjustments
        + sum((x for x in payout.lines.filter(kind=LineKind.PK_BONUS).values_list("amount", flat=True)), Decimal(0)),
    )
    audited(payout, actor, reason=f"adjustment: {reason}").save()
    return line


@transaction.atomic
def payroll_export_record(*, cycle, payouts, content: bytes, file_format: str, actor):
    """Mark approved payouts exported and record the batch with its file's checksum."""
    batch = ExportBatch.objects.create(
        cycle=cycle,
        exported_by=actor,
        file_format=file_format,
        checksum=hashlib.sha256(content).hexdigest(),
        payout_count=len(payouts),
        total=sum((p.total for p in payouts), Decimal("0.00")),
    )
    batch.payouts.set(payouts)
    _transition(
        payouts,
        allowed_from=(PayoutStatus.APPROVED,),
        to=PayoutStatus.EXPORTED,
        actor=actor,
        reason=f"payroll export {batch.pk}",
    )
    return batch
