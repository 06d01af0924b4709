from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from performance.appraisal.models import AppraisalCycle
from performance.appraisal.selectors import results_table
from performance.common.exporting import choose_format, write_table
from performance.management.base import ProductCommand


class Command(ProductCommand):
    help = "One row per staff member in the cycle: score, grade, rank and every indicator's value and score."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--output", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"])

    def handle(self, name, output, format=None, **options):
        cycle = AppraisalCycle.objects.filter(name=name).first()
        if cycle is None:
            raise CommandError(f"no cycle named {name}")
        header, rows = results_table(cycle=cycle)
        n = write_table(output, header, rows, choose_format(output, format), sheet=_("Results"))
        self.stdout.write(f"wrote {n} results to {output}")
