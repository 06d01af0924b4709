"""The one breach rule, as a Python predicate and as the same condition in SQL.

A target is breached when its event happened after its due time, or has not happened and
the due time has passed; a complaint met its SLA when neither target is breached. A target
without a due time (a clock paused while waiting on the customer) is not breached.
"""

from django.db.models import F, Q

TARGETS = (("first_response_at", "first_response_due"), ("resolved_at", "resolution_due"))


def breached(event_at, due, now) -> bool:
    """Breached: the event came after its due time, or has not come and the due time has passed."""
    if due is None:
        return False
    if event_at is not None:
        return event_at > due
    return now > due


def breached_q(event: str, due: str, now) -> Q:
    """``breached`` for one target, as a condition on the complaint's ``event`` and ``due`` columns."""
    return Q(**{f"{due}__isnull": False}) & (
        Q(**{f"{event}__gt": F(due)}) | Q(**{f"{event}__isnull": True, f"{due}__lt": now})
    )


def any_breached_q(now) -> Q:
    """Either target breached."""
    return breached_q(*TARGETS[0], now) | breached_q(*TARGETS[1], now)


def met_q(now) -> Q:
    """Neither target breached: the event came by its due time, or it is not yet due."""

    def met(event, due):
        return (
            Q(**{f"{due}__isnull": True})
            | Q(**{f"{event}__lte": F(due)})
            | Q(**{f"{event}__isnull": True, f"{due}__gte": now})
        )

    return met(*TARGETS[0]) & met(*TARGETS[1])
