"""An import from a file: the command's door (the admin's is ``resources``)."""

from django.db import connection, transaction
from django.utils.translation import gettext as _

from . import bulk
from .kinds import KINDS, Imported
from .readers import read_table
from .schema import ImportFailed, RowError

ANALYZE_AFTER = 10_000


def import_file(*, kind: str, path, dry_run: bool = False) -> Imported:
    """Import a CSV or XLSX file of ``kind``: all rows or none; ``dry_run`` checks everything and writes nothing."""
    if kind not in KINDS:
        raise ImportFailed(
            [RowError(0, "", _("unknown kind %(k)r; one of %(kinds)s") % {"k": kind, "kinds": ", ".join(KINDS)})]
        )
    spec = KINDS[kind]
    header, rows = read_table(path)
    with transaction.atomic():
        result = None
        if spec.bulk is not None and bulk.applicable(path):
            result = bulk.attempt(lambda: spec.bulk(header, path))
        if result is None:
            result = spec.run(header, rows)
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run and spec.table and result.rows >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # fresh planner statistics, so a close right after a big import gets good plans
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {spec.table}")
    return result
