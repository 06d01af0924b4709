from performance.ingest.kinds import KINDS
from performance.ingest.services import import_file
from performance.management.base import ProductCommand, acting_login, clear_errors


class Command(ProductCommand):
    help = "Load a CSV or XLSX file; all rows or none. Errors name the row number and the column."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--user", help="the login the import acts as: refused unless it may import KIND")

    def handle(self, kind, path, dry_run=False, user=None, **options):
        actor = acting_login(user) if user else None
        with clear_errors():
            result = import_file(kind=kind, path=path, dry_run=dry_run, actor=actor)
        if dry_run:
            self.stdout.write(f"{result.rows} {kind} rows are valid; nothing written (dry run)")
        else:
            self.stdout.write(f"imported {result.rows} {kind} rows ({result.created} new, {result.updated} updated)")
