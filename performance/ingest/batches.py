"""One import, whichever door it came through: the permission, the kind's run, the batch record."""

from django.db import transaction

from performance.common.authority import perm_name, require

from . import bulk
from .models import ImportBatch


def import_perm(kind) -> str:
    """The matrix's action for importing ``kind``: ``performance.import_<model>``."""
    return perm_name(kind.model._meta, "import")


def run_import(
    *, kind, header, rows, actor=None, file_name="", checksum="", door="command", dry_run=False, path=None
) -> tuple[object, ImportBatch | None]:
    """Run ``kind`` over ``rows`` in one transaction and record the batch; all rows or none.

    ``actor`` is the acting login (None: the operator at the shell, as ``import_data``
    without ``--user``); a login the matrix refuses imports nothing. A dry run checks every
    row and writes nothing, not even its batch. ``path``: the file itself, which a kind with a
    set-based path (``ingest.bulk``) tries first when it is a CSV on PostgreSQL.
    """
    require(actor, import_perm(kind))
    with transaction.atomic():
        batch = ImportBatch(kind=kind.name, file_name=str(file_name)[:255], checksum=checksum, door=door)
        batch.imported_by = actor
        batch.save()
        imported = None
        if path is not None and kind.bulk is not None and bulk.applicable(path):
            imported = bulk.attempt(lambda: kind.bulk(header, path))
        if imported is None:
            imported = kind.run(header, rows, actor=actor, reason=f"import batch {batch.pk}")
        batch.rows, batch.rows_added, batch.rows_updated = imported.rows, imported.created, imported.updated
        batch.save(update_fields=["rows", "rows_added", "rows_updated"])
        if dry_run:
            transaction.set_rollback(True)
            batch = None
    return imported, batch
