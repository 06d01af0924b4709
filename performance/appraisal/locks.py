"""Which cycles are locked, and the data dated in their windows with them.

A cycle's inputs and results are locked once it is finalized, or once another app says so
through ``hooks.locked_cycle_ids`` (finance has approved its payouts).
"""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from performance.common.windows import window_bounds

from . import hooks
from .models import AppraisalCycle, CycleState


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


def cycle_lock_reason(cycle: AppraisalCycle) -> str | None:
    """Why the cycle's data, scores and ratings cannot change now, or None: forms show it before typing."""
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
    """Refuse a change to a locked cycle. The state is read from the database: the caller's copy may be stale."""
    reason = cycle_lock_reason(cycle)
    if reason:
        raise CycleLocked(reason)
