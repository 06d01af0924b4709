from django.utils.translation import gettext as _

from performance.appraisal.selectors import results_table
from performance.common.exporting import choose_format, write_table
from performance.management.base import ProductCommand, cycle_named


class Command(ProductCommand):
    help = "One row per staff member in the cycle: score, grade, rank and every indicator's value and score."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--output", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"])

    def handle(self, name, output, format=None, **options):
        cycle = cycle_named(name)
        header, rows = results_table(cycle=cycle)
        n = write_table(output, header, rows, choose_format(output, format), sheet=_("Results"))
        self.stdout.write(f"wrote {n} results to {output}")
