"""An import from a file: the command's door (the admin's is ``resources``)."""

from pathlib import Path

from django.db import connection
from django.utils.translation import gettext as _

from performance.common.import_doors import file_checksum

from .batches import run_import
from .kinds import KINDS, Imported
from .readers import read_table
from .schema import ImportFailed, RowError

ANALYZE_AFTER = 10_000


def import_file(*, kind: str, path, dry_run: bool = False, actor=None) -> Imported:
    """Import a CSV or XLSX file of ``kind``: all rows or none; ``dry_run`` checks everything and writes nothing.

    ``actor``: the login the import acts as (``import_data --user``), asked of the permission
    matrix and recorded in the import batch and the rows' history; None for the operator.
    """
    if kind not in KINDS:
        raise ImportFailed(
            [RowError(0, "", _("unknown kind %(k)r; one of %(kinds)s") % {"k": kind, "kinds": ", ".join(KINDS)})]
        )
    spec = KINDS[kind]
    header, rows = read_table(path)
    result, _batch = run_import(
        kind=spec,
        header=header,
        rows=rows,
        actor=actor,
        file_name=Path(path).name,
        checksum=file_checksum(path),
        door="command",
        dry_run=dry_run,
        path=path,
    )
    if not dry_run and spec.table and result.rows >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # fresh planner statistics, so a close right after a big import gets good plans
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {spec.table}")
    return result
