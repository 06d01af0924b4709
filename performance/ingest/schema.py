"""An import kind's columns, declared once, and how a row's errors are collected.

Row numbers count the header as row 1, as a spreadsheet shows them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_LISTED = 50


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        if not self.row and not self.column:  # about the whole file
            return self.message
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column or "-",
            "message": self.message,
        }


class ImportFailed(Exception):
    """Nothing was imported: the first ``MAX_LISTED`` errors, and how many there were in all."""

    def __init__(self, errors: list[RowError], total: int | None = None):
        self.errors = errors[:MAX_LISTED]
        self.total = total if total is not None else len(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class ErrorLog:
    def __init__(self):
        self.errors: list[RowError] = []
        self.total = 0

    def add(self, row, column, message):
        self.total += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(RowError(row, column, message))

    def raise_if_any(self):
        if self.total:
            raise ImportFailed(self.errors, self.total)


@dataclass(frozen=True)
class Column:
    """One column of an import file: how a cell is parsed and where an export reads it from.

    ``parse`` takes a non-empty cell and returns its value or raises ValueError with the
    reason; ``export`` is what an admin export writes in this column: a model attribute path
    (``staff__employee_no``; the column's name by default) or a function of the row.
    """

    name: str
    parse: Callable
    required: bool = False
    default: object = None
    export: str | Callable | None = None


class Schema:
    """Columns, how to parse them and how to check a parsed row."""

    def __init__(self, *columns: Column):
        self.columns = columns

    @property
    def names(self) -> list[str]:
        return [col.name for col in self.columns]

    def check_header(self, header):
        errors = ErrorLog()
        seen = set()
        for h in header:
            if h in seen and h:
                errors.add(1, h, _("the column appears twice"))
            seen.add(h)
        for col in self.columns:
            if col.required and col.name not in header:
                errors.add(1, col.name, _("required column missing"))
        errors.raise_if_any()
        return {col.name: header.index(col.name) for col in self.columns if col.name in header}

    def parse(self, number, values, index, errors) -> dict | None:
        """A dict of parsed values, or None after logging every bad cell of the row."""
        row, ok, n = {}, True, len(values)
        for col in self.columns:
            i = index.get(col.name)
            raw = values[i] if i is not None and i < n else ""
            if raw is None or (raw.__class__ is str and (not raw or raw.isspace())):
                if col.required:
                    errors.add(number, col.name, _("required value missing"))
                    ok = False
                row[col.name] = col.default
                continue
            try:
                row[col.name] = col.parse(raw)
            except ValueError as exc:
                errors.add(number, col.name, str(exc))
                ok = False
        return row if ok else None
