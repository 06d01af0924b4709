"""What an import kind is, and the registry of kinds by name."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from performance.common import import_doors

from ..resources import kind_resource
from ..schema import Schema

KINDS: dict[str, "Kind"] = {}


@dataclass(frozen=True)
class Imported:
    rows: int
    created: int

    @property
    def updated(self) -> int:
        return self.rows - self.created


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    schema: Schema
    run: object  # fn(header, rows) -> Imported; runs inside the caller's transaction
    key: tuple[str, ...]  # the columns a re-import matches rows by
    table: str | None = None  # analyzed after a big import (PostgreSQL)
    bulk: object = None  # fn(header, path) -> Imported | None: a CSV file set-based (ingest.bulk)


def register(name, *, model, schema, key, table=None, bulk=None):
    """Declare ``fn(header, rows) -> Imported`` as the import of kind ``name``.

    ``bulk``, if given, is tried first for a CSV file on PostgreSQL; it returns None (having
    written nothing) when it does not accept the whole file, and ``fn`` then runs.
    """

    def decorate(fn):
        kind = KINDS[name] = Kind(name=name, model=model, schema=schema, run=fn, key=key, table=table, bulk=bulk)
        import_doors.register(name, kind_resource(kind))
        return fn

    return decorate


def resolve_employee(ids: dict[str, int], number: int, column: str, value, errors):
    """The id of the member ``value`` names (None for an empty cell), or log the unknown employee_no."""
    if value in (None, ""):
        return None
    found = ids.get(value)
    if found is None:
        errors.add(number, column, _("unknown employee_no %(v)r") % {"v": value})
    return found
