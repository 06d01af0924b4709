"""Which cycles are locked, and the data dated in their windows with them.

A cycle's inputs and results are locked once it is finalized, or once another app says so
through ``hooks.locked_cycle_ids`` (finance has approved its payouts). The row locks at the
end register, for every model whose rows a locked cycle holds, why a row is locked
(``performance.common.locking``), so every door refuses the same changes: the import
command and the admin import (through ``ingest.locks``), the admin's forms and deletes, and
the services.
"""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from performance.common import locking
from performance.common.windows import window_bounds
from performance.records.models import Order, Ticket
from performance.sla.models import Complaint

from . import hooks
from .models import (
    Appeal,
    AppealStatus,
    Appraisal,
    AppraisalCycle,
    AppraisalTemplate,
    CycleState,
    KciRating,
    MetricValue,
    Section,
)

REFUND_FIELDS = frozenset({"refunded_amount", "refunded_at"})


class CycleLocked(ValidationError):
    pass


def _approved() -> Q | None:
    """Cycles another app has locked (approved payouts), as a condition on the cycle; None if no app says."""
    q = None
    for ids in hooks.locked_cycle_ids:
        q = Q(pk__in=ids()) if q is None else q | Q(pk__in=ids())
    return q


def locked_cycles():
    """Finalized cycles, and cycles whose payouts finance has approved: their inputs are locked."""
    q, approved = Q(state=CycleState.FINALIZED), _approved()
    return AppraisalCycle.objects.filter(q if approved is None else q | approved)


def locked_windows() -> list[tuple[str, object, object]]:
    """(cycle name, start, end) of every locked cycle, as aware datetimes: data dated inside cannot change."""
    return [(name, *window_bounds(s, e)) for name, s, e in locked_cycles().values_list("name", "start", "end")]


def cycle_lock(cycle: AppraisalCycle) -> str | None:
    """Why a cycle's data is locked, or None. The state is read from the database: the caller's copy may be stale."""
    if cycle is None or cycle.pk is None:
        return None
    state = AppraisalCycle.objects.filter(pk=cycle.pk).values_list("state", flat=True).first()
    if state == CycleState.FINALIZED:
        return _("Cycle %(name)s is finalized: its data, scores and ratings are locked.") % {"name": cycle.name}
    approved = _approved()
    if approved is not None and AppraisalCycle.objects.filter(approved, pk=cycle.pk).exists():
        return _(
            "Cycle %(name)s has approved payouts: its data, scores and ratings are locked until finance unlocks them."
        ) % {"name": cycle.name}
    return None


def cycle_assert_editable(cycle: AppraisalCycle) -> None:
    """Refuse a change to a locked cycle."""
    reason = cycle_lock(cycle)
    if reason:
        raise CycleLocked(reason)


def window_lock(value) -> str | None:
    """Why a row dated ``value`` is locked: the locked cycle whose window holds it, or None."""
    if value is None:
        return None
    for name, start, end in locked_windows():
        if start <= value < end:
            return _("It falls in cycle %(name)s, which is locked (finalized or paid out).") % {"name": name}
    return None


# --- row locks, asked by every door (performance.common.locking) --------------------------------


@locking.register(AppraisalCycle)
def _cycle_row(cycle):
    if cycle.pk is not None and cycle.state == CycleState.CLOSING:
        return locking.Lock(_("Cycle %(name)s is closing: wait for the close to finish.") % {"name": cycle.name})
    reason = cycle_lock(cycle)
    return locking.Lock(reason) if reason else None


def _in_cycle(obj):
    reason = cycle_lock(obj.cycle) if obj.cycle_id else None
    return locking.Lock(reason) if reason else None


locking.register(Appraisal)(_in_cycle)
locking.register(KciRating)(_in_cycle)
locking.register(MetricValue)(_in_cycle)


@locking.register(Appeal)
def _appeal_row(appeal):
    if appeal.pk is not None:
        stored = Appeal.objects.filter(pk=appeal.pk).values_list("status", flat=True).first()
        if stored is not None and stored != AppealStatus.OPEN:
            return locking.Lock(_("This appeal was decided: a decision is final."))
    reason = cycle_lock(appeal.appraisal.cycle) if appeal.appraisal_id else None
    return locking.Lock(reason) if reason else None


@locking.register(AppraisalTemplate)
def _template_row(template):
    if template.pk is not None and template.cycles.exclude(state__in=[CycleState.DRAFT, CycleState.OPEN]).exists():
        return locking.Lock(_("A cycle that has closed uses this template: save it as a new version instead."))
    return None


@locking.register(Section)
def _section_row(section):
    return _template_row(section.template) if section.template_id else None


@locking.register(Order)
def _order_row(order):
    """An order paid in a locked cycle may still receive its refund (and nothing else), dated in an open cycle."""
    refund = window_lock(order.refunded_at)
    if refund:
        return locking.Lock(refund)
    paid = window_lock(order.paid_at)
    if paid:
        return locking.Lock(paid, editable=REFUND_FIELDS)
    return None


@locking.register(Ticket)
def _ticket_row(ticket):
    reason = window_lock(ticket.created_at)
    return locking.Lock(reason) if reason else None


@locking.register(Complaint)
def _complaint_row(complaint):
    reason = window_lock(complaint.received_at)
    return locking.Lock(reason) if reason else None
