"""The finance workflow of payouts: approve, hold, unlock, adjust, export for payroll, mark paid.

``actor`` is always the acting login (a ``User``); the permission matrix decides what it
may do (``commission.approve_payout`` …), separation of duties included.

Every move is a compare-and-set: the payouts' rows are locked (``SELECT … FOR UPDATE``), the
move is one ``UPDATE … WHERE status IN (the states it may leave)``, and its history records
are written in the same transaction. Two finance users, or two ``export_payouts`` processes,
moving the same payouts at the same moment therefore move each payout once: the second
waits for the first and then finds nothing left in the state it would move from.
"""

from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.common.audit import audited
from performance.common.authority import require
from performance.common.bulk import history_insert_from
from performance.common.import_doors import checksum
from performance.common.money import round_money
from performance.models import AppraisalCycle, CycleState

from . import calc
from .models import ExportBatch, LineKind, Payout, PayoutLine, PayoutStatus
from .payroll import payouts_file
from .selectors import payout_list, with_adjusters

# a cycle whose payouts are being recomputed, or whose last recompute failed, cannot be approved
NOT_APPROVABLE = (CycleState.CLOSING, CycleState.FAILED, CycleState.OPEN, CycleState.DRAFT)


class Moved(NamedTuple):
    moved: int  # payouts that changed state
    held: list  # payouts on hold that an approval left on hold


def _lock(payouts) -> list[Payout]:
    """The payouts' rows, locked for this transaction, as they are now (not as the caller read them)."""
    ids = [p.pk for p in payouts]
    return list(
        Payout.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("staff", "cycle", "plan")
        .order_by("pk")
    )


def _move(payouts, *, allowed_from, to, actor, reason="", **values) -> int:
    """One ``UPDATE … WHERE status IN allowed_from`` over locked rows, with a history record per moved payout."""
    ids = [p.pk for p in payouts if p.status in allowed_from]
    if not ids:
        return 0
    n = Payout.objects.filter(pk__in=ids, status__in=allowed_from).update(status=to, **values)
    if n != len(ids):  # the rows are locked: only a database without row locks (SQLite) gets here
        raise ValidationError(_("Payouts changed while this ran; nothing was changed. Try again."))
    history_insert_from(Payout.objects.filter(pk__in=ids), history_type="~", user=actor, reason=reason or to)
    return n


def _lock_cycles(payouts) -> None:
    """Approvals wait for, and are refused during, a close of the payouts' cycle (which locks the same row)."""
    cycle_ids = sorted({p.cycle_id for p in payouts})
    for cycle in AppraisalCycle.objects.select_for_update().filter(pk__in=cycle_ids).order_by("pk"):
        if cycle.state in NOT_APPROVABLE:
            raise ValidationError(
                _("Cycle %(name)s is %(state)s: its payouts can be approved once it has closed.")
                % {"name": cycle.name, "state": cycle.get_state_display()}
            )


@transaction.atomic
def payouts_approve(*, payouts, actor) -> Moved:
    """Calculated payouts become approved; payouts on hold stay on hold and are returned to say so;
    a payout a calibration made stale (``recompute_needed``) is refused, named, until the cycle is closed again.

    Refused as a whole (nothing changes) when the cycle is closing, or when one of the
    payouts is the actor's own or carries the actor's adjustment (separation of duties).
    """
    require(actor, "commission.approve_payout")
    _lock_cycles(payouts)
    rows = with_adjusters(_lock(payouts))
    for payout in rows:
        require(actor, "commission.approve_payout", payout)
    stale = [p for p in rows if p.recompute_needed and p.status == PayoutStatus.CALCULATED]
    if stale:
        raise ValidationError(
            _(
                "A calibration changed the results behind the payouts of %(staff)s: close the cycle again to "
                "recompute them before approving."
            )
            % {"staff": ", ".join(str(p.staff) for p in stale[:10])}
        )
    moved = _move(
        rows,
        allowed_from=(PayoutStatus.CALCULATED,),
        to=PayoutStatus.APPROVED,
        actor=actor,
        reason="approved",
        approved_by=actor,
        approved_at=timezone.now(),
    )
    return Moved(moved, [p for p in rows if p.status == PayoutStatus.ON_HOLD])


@transaction.atomic
def payouts_hold(*, payouts, actor, reason) -> int:
    require(actor, "commission.hold_payout")
    if not reason:
        raise ValidationError(_("A hold needs a reason."))
    rows = _lock(payouts)
    _refuse_others(rows, (PayoutStatus.CALCULATED, PayoutStatus.APPROVED, PayoutStatus.ON_HOLD), PayoutStatus.ON_HOLD)
    return _move(
        rows,
        allowed_from=(PayoutStatus.CALCULATED, PayoutStatus.APPROVED),
        to=PayoutStatus.ON_HOLD,
        actor=actor,
        reason=reason,
        hold_reason=reason,
    )


@transaction.atomic
def payouts_mark_paid(*, payouts, actor) -> int:
    """Exported payouts become paid; others are refused (nothing changes)."""
    require(actor, "commission.pay_payout")
    rows = _lock(payouts)
    _refuse_others(rows, (PayoutStatus.EXPORTED, PayoutStatus.PAID), PayoutStatus.PAID)
    return _move(
        rows,
        allowed_from=(PayoutStatus.EXPORTED,),
        to=PayoutStatus.PAID,
        actor=actor,
        reason="paid",
        paid_at=timezone.now(),
    )


@transaction.atomic
def payouts_unlock(*, payouts, actor, reason) -> int:
    require(actor, "commission.unlock_payout")
    if not reason:
        raise ValidationError(_("Unlocking needs a reason."))
    rows = _lock(payouts)
    _refuse_others(
        rows, (PayoutStatus.APPROVED, PayoutStatus.ON_HOLD, PayoutStatus.CALCULATED), PayoutStatus.CALCULATED
    )
    return _move(
        rows,
        allowed_from=(PayoutStatus.APPROVED, PayoutStatus.ON_HOLD),
        to=PayoutStatus.CALCULATED,
        actor=actor,
        reason=reason,
        approved_by=None,
        approved_at=None,
    )


def _refuse_others(rows, allowed, to) -> None:
    for payout in rows:
        if payout.status not in allowed:
            raise ValidationError(
                _("Payout of %(staff)s is %(status)s and cannot become %(to)s.")
                % {"staff": payout.staff, "status": payout.get_status_display(), "to": PayoutStatus(to).label}
            )


@transaction.atomic
def payout_adjust(*, payout, amount: Decimal, reason: str, actor) -> PayoutLine:
    """A manual adjustment line before approval; kept across recomputes and counted in the total."""
    require(actor, "commission.adjust_payout")
    payout = _lock([payout])[0]
    require(actor, "commission.adjust_payout", payout)
    if payout.locked:
        raise ValidationError(_("This payout is approved: unlock it first."))
    if not reason:
        raise ValidationError(_("An adjustment needs a reason."))
    amount = round_money(Decimal(amount))
    line = PayoutLine(
        payout=payout, kind=LineKind.ADJUSTMENT, amount=amount, label=reason, created_by=actor, position=10_000
    )
    audited(line, actor, reason="adjustment").save()
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


class PayrollExport(NamedTuple):
    batch: ExportBatch | None  # None: nothing was left to export
    content: bytes  # the file: the approved payouts, or the header row only


@transaction.atomic
def payroll_export(*, cycle, actor, file_format: str, payouts=None) -> PayrollExport:
    """Write the cycle's approved payouts not yet exported, mark them exported and record the batch: once.

    ``payouts`` narrows it to a selection (the admin's). The approved rows are locked before
    they are read, so a second export at the same moment waits, then finds them exported and
    writes the header row only; each payout is in exactly one batch. The batch keeps the
    file's bytes (downloaded again, the same file with the same SHA-256).
    """
    require(actor, "commission.payroll_payout")
    qs = payout_list(cycle=cycle).filter(status=PayoutStatus.APPROVED).select_for_update(of=("self",))
    if payouts is not None:
        qs = qs.filter(pk__in=[p.pk for p in payouts])
    rows = list(qs)
    content = payouts_file(rows, file_format)
    if not rows:
        return PayrollExport(None, content)
    batch = ExportBatch(
        cycle=cycle,
        exported_by=actor,
        file_format=file_format,
        checksum=checksum(content),
        payout_count=len(rows),
        total=sum((p.total for p in rows), Decimal("0.00")),
        content=content,
    )
    audited(batch, actor).save()
    batch.file_name = f"payroll-{cycle.name}-{batch.pk}.{file_format}"  # named by its number, once it has one
    ExportBatch.objects.filter(pk=batch.pk).update(file_name=batch.file_name)
    batch.payouts.set(rows)
    _move(
        rows,
        allowed_from=(PayoutStatus.APPROVED,),
        to=PayoutStatus.EXPORTED,
        actor=actor,
        reason=f"payroll export {batch.pk}",
    )
    return PayrollExport(batch, content)
