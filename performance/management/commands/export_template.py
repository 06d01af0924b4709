from django.core.management.base import CommandError

from performance.appraisal.definitions import template_to_yaml
from performance.appraisal.models import AppraisalTemplate
from performance.management.base import ProductCommand


class Command(ProductCommand):
    help = "Print an appraisal template as the YAML that load_template reads (latest version by default)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--template-version", type=int, dest="template_version")

    def handle(self, code, template_version=None, **options):
        qs = AppraisalTemplate.objects.filter(code=code).order_by("-version")
        if template_version:
            qs = qs.filter(version=template_version)
        template = qs.first()
        if template is None:
            raise CommandError(f"no template {code}")
        self.stdout.write(template_to_yaml(template), ending="")
