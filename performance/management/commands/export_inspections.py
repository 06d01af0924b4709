from django.utils.translation import gettext as _

from performance.common.exporting import choose_format, write_table
from performance.management.base import ProductCommand, iso_date
from performance.qa.selectors import inspections_between


class Command(ProductCommand):
    help = "One row per sampled ticket created in [start, end)."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=iso_date)
        parser.add_argument("--end", required=True, type=iso_date)
        parser.add_argument("--output", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"])

    def handle(self, start, end, output, format=None, **options):
        header = [
            "ticket",
            "employee_no",
            "sampled_at",
            "status",
            "score",
            "passed",
            "inspector",
            "pooled",
            "root_cause",
        ]
        rows = (
            [
                i.ticket.external_id,
                i.ticket.staff.employee_no,
                i.sampled_at,
                i.status,
                i.score,
                i.passed,
                i.inspector.employee_no if i.inspector else "",
                i.pooled,
                i.root_cause,
            ]
            for i in inspections_between(start=start, end=end).iterator(chunk_size=2000)
        )
        n = write_table(output, header, rows, choose_format(output, format), sheet=_("Inspections"))
        self.stdout.write(f"wrote {n} inspections to {output}")
