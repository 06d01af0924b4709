"""The lock rules as an import applies them, row by row and then over the staging table."""

import datetime

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
