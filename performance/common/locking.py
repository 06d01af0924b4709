"""Row locks: whether a row may still change, asked by every door the same way.

The rooms that know why a row is locked register a function per model here (the appraisal
room for cycle data and the rows dated in a locked cycle's window, the commission app for
payouts and payroll batches); the admin's base classes, the permission matrix and the
services ask ``lock_of``. Lower rooms' admin pages therefore honour locks they cannot import.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Lock:
    """Why a row is locked, and the fields that may still change (none: the whole row)."""

    reason: str
    editable: frozenset = field(default_factory=frozenset)


class RowLocked(ValidationError):
    pass


_LOCKS: dict[type, list] = {}


def register(model):
    """Declare ``fn(obj) -> Lock | None`` as a reason ``model``'s rows are locked."""

    def decorate(fn):
        _LOCKS.setdefault(model, []).append(fn)
        return fn

    return decorate


def lock_of(obj) -> Lock | None:
    """The first lock that holds ``obj`` (a saved or a new row), or None."""
    if obj is None:
        return None
    for fn in _LOCKS.get(type(obj), ()):
        lock = fn(obj)
        if lock is not None:
            return lock
    return None


def is_locked(obj) -> bool:
    return lock_of(obj) is not None


def may_change(obj) -> bool:
    """A row may change if it is not locked, or if its lock leaves some fields editable."""
    lock = lock_of(obj)
    return lock is None or bool(lock.editable)


def assert_change(obj, fields=None) -> None:
    """Refuse a change of ``fields`` (every field when None) of ``obj`` if a lock holds it."""
    lock = lock_of(obj)
    if lock is None:
        return
    changed = set(fields) if fields is not None else None
    if changed is not None and lock.editable and changed <= lock.editable:
        return
    if changed is not None and not changed:
        return
    detail = ""
    if lock.editable:
        detail = " " + _("Only %(fields)s may change.") % {"fields": ", ".join(sorted(lock.editable))}
    raise RowLocked(f"{lock.reason}{detail}")


def assert_delete(obj) -> None:
    lock = lock_of(obj)
    if lock is not None:
        raise RowLocked(lock.reason)
