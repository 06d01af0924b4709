from django.core.management.base import CommandError

from commission.definitions import version_to_yaml
from commission.models import PlanVersion
from performance.management.base import ProductCommand


class Command(ProductCommand):
    help = "Print a commission plan version as the YAML that load_plan reads (latest by default)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--plan-version", type=int, dest="plan_version")

    def handle(self, code, plan_version=None, **options):
        qs = PlanVersion.objects.filter(plan__code=code).order_by("-version")
        if plan_version:
            qs = qs.filter(version=plan_version)
        version = qs.first()
        if version is None:
            raise CommandError(f"no plan {code}")
        self.stdout.write(version_to_yaml(version), ending="")
