from django.utils import timezone
from django.utils.translation import gettext as _

from performance.common.exporting import choose_format, write_table
from performance.management.base import ProductCommand, iso_date
from performance.sla.selectors import complaints_between, with_breaches


class Command(ProductCommand):
    help = "One row per complaint received in [start, end), with its SLA figures."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=iso_date)
        parser.add_argument("--end", required=True, type=iso_date)
        parser.add_argument("--output", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"])

    def handle(self, start, end, output, format=None, **options):
        now = timezone.now()
        header = [
            "external_id",
            "priority",
            "received_at",
            "first_response_due",
            "resolution_due",
            "first_response_breached",
            "resolution_breached",
            "closed_loop",
            "employee_no",
            "handler",
            "channel",
            "first_response_at",
            "resolved_at",
            "confirmed_at",
        ]
        rows = (
            [
                c.external_id,
                c.priority,
                c.received_at,
                c.first_response_due,
                c.resolution_due,
                c.first_response_breached,
                c.resolution_breached,
                c.confirmed_at is not None,
                c.staff.employee_no if c.staff else "",
                c.handler.employee_no if c.handler else "",
                c.channel,
                c.first_response_at,
                c.resolved_at,
                c.confirmed_at,
            ]
            for c in with_breaches(complaints_between(start=start, end=end), now=now)
            .select_related("staff", "handler")
            .iterator(chunk_size=2000)
        )
        n = write_table(output, header, rows, choose_format(output, format), sheet=_("Complaints"))
        self.stdout.write(f"wrote {n} complaints to {output}")
