from commission.definitions import plan_load
from performance.common.documents import read_definition
from performance.management.base import ProductCommand, clear_errors


class Command(ProductCommand):
    help = "Upsert a commission plan from YAML or JSON, by code (a changed definition is a new dated version)."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        with clear_errors():
            version, created = plan_load(data=read_definition(path))
        verb = "loaded" if created else "unchanged"
        self.stdout.write(f"plan {version.plan.code} v{version.version} (from {version.effective_from}) {verb}")
