from performance.appraisal.definitions import template_load
from performance.common.documents import read_definition
from performance.management.base import ProductCommand, clear_errors


class Command(ProductCommand):
    help = "Upsert an appraisal template from YAML or JSON, by code (a changed definition is a new version)."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        with clear_errors():
            template, created = template_load(data=read_definition(path))
        verb = "loaded" if created else "unchanged"
        self.stdout.write(f"template {template.code} v{template.version} {verb}")
