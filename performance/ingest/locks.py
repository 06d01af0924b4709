"""The lock rules as an import applies them, row by row and then over the staging table."""

import datetime

from django.db import connection
from django.utils.translation import gettext as _

from performance.appraisal.locks import locked_cycles, locked_windows
from performance.appraisal.models import AppraisalCycle


class LockedWindows:
    """Windows of locked cycles: data dated inside them cannot change."""

    def __init__(self):
        self.windows = locked_windows()

    def check(self, number, column, value, errors):
        if value is None:
            return
        for name, start, end in self.windows:
            if start <= value < end:
                errors.add(
                    number,
                    column,
                    _("falls in cycle %(name)s, which is locked (finalized or paid out): %(v)s")
                    % {"v": value.isoformat(), "name": name},
                )
                return

    def check_existing(self, stage, table: str, column: str, errors) -> None:
        """A re-import must not move an existing row out of (or change one inside) a locked cycle."""
        if not self.windows:
            return
        rows = stage.query(
            f"SELECT s._row, t.{column} FROM {{stage}} s JOIN {table} t ON t.external_id = s.external_id"
        )
        for number, value in rows:
            if isinstance(value, str):  # SQLite returns text
                value = datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
            self.check(number, column, value, errors)
        errors.raise_if_any()

    def window_of(self, value):
        """The name of the locked cycle whose window holds ``value`` (an aware datetime, or SQLite's text)."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is None:  # SQLite: UTC without an offset
            value = value.replace(tzinfo=datetime.UTC)
        return next((name for name, start, end in self.windows if start <= value < end), None)

    def check_refund_only(self, stage, table: str, frozen: dict[str, str], errors) -> None:
        """Orders of a locked cycle: a refund may still arrive (``refunded_amount``, ``refunded_at``), nothing else.

        ``frozen`` maps a file column to the SQL comparing the staged row ``s`` with the stored
        ``t``. A new order dated in a locked window, a change of any frozen column of an order
        paid in one, and a refund dated in one (or changing one dated there) are refused, each
        with its row and column. A refund dated in an open cycle is clawed back there.
        """
        if not self.windows:
            return
        adapt = connection.ops.adapt_datetimefield_value

        def inside(column):
            conditions, params = [], []
            for _name, start, end in self.windows:
                conditions.append(f"({column} >= %s AND {column} < %s)")
                params += [adapt(start), adapt(end)]
            return "(" + " OR ".join(conditions) + ")", params

        first_changed = " ".join(f"WHEN {sql} THEN '{column}'" for column, sql in frozen.items())
        refund = (
            "(s.refunded_amount IS DISTINCT FROM t.refunded_amount OR s.refunded_at IS DISTINCT FROM t.refunded_at)"
        )
        where, params = [], []
        for column in ("s.paid_at", "t.paid_at", "s.refunded_at", "t.refunded_at"):
            sql, p = inside(column)
            where.append(sql)
            params += p
        rows = stage.query(
            f"SELECT s._row, t.id IS NULL, CASE {first_changed} END, {refund}, s.paid_at, t.paid_at, "
            f"s.refunded_at, t.refunded_at FROM {{stage}} s LEFT JOIN {table} t ON t.external_id = s.external_id "
            f"WHERE ({' OR '.join(where)}) ORDER BY s._row",
            params,
        )
        for number, new, changed, refund_changed, paid, old_paid, refunded, old_refunded in rows:
            paid_in = self.window_of(paid) or self.window_of(old_paid)
            if new and paid_in:
                errors.add(
                    number,
                    "paid_at",
                    _("falls in cycle %(name)s, which is locked (finalized or paid out)") % {"name": paid_in},
                )
                continue
            if not new and changed and paid_in:
                errors.add(
                    number,
                    changed,
                    _(
                        "cannot change: the order belongs to cycle %(name)s, which is locked; "
                        "only refunded_amount and refunded_at may change"
                    )
                    % {"name": paid_in},
                )
                continue
            refund_in = self.window_of(refunded) or (None if new else self.window_of(old_refunded))
            if (new or refund_changed) and refund_in:
                errors.add(
                    number,
                    "refunded_at",
                    _("falls in cycle %(name)s, which is locked (finalized or paid out)") % {"name": refund_in},
                )
        errors.raise_if_any()


class CycleNames:
    """Cycles by name, with which are locked: a file's ``cycle`` column resolved once per import."""

    def __init__(self):
        self.cycles = {c.name: c for c in AppraisalCycle.objects.all()}
        self.locked = set(locked_cycles().values_list("pk", flat=True))

    def resolve(self, number, name, errors) -> AppraisalCycle | None:
        cycle = self.cycles.get(name)
        if cycle is None:
            errors.add(number, "cycle", _("unknown cycle %(v)r") % {"v": name})
        elif cycle.pk in self.locked:
            errors.add(number, "cycle", _("cycle %(v)s is locked (finalized or paid out)") % {"v": name})
            return None
        return cycle
