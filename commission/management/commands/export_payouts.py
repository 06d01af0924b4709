
from django.core.management.base import BaseCommand, CommandError

from commission.selectors import payout_rows, payouts_table
from commission.services import _assert_finance, payouts_for_payroll, payroll_export_record
from performance.exporting import choose_format, write_table
from performance.management.base import clear_errors
from performance.models import AppraisalCycle


class Command(BaseCommand):
    help = ("One row per payout of the cycle, changing nothing. With --for-payroll: only approved payouts, "
            "which are then marked exported and recorded in a batch with the file's checksum.")

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--output", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"])
        parser.add_argument("--for-payroll", action="store_true")
        parser.add_argument("--user", help="with --for-payroll: the Finance login recorded as the exporter")

    def handle(self, name, output, format=None, for_payroll=False, user=None, **options):
        cycle = AppraisalCycle.objects.filter(name=name).first()
        if cycle is None:
            raise CommandError(f"no cycle named {name}")
        fmt = choose_format(output, format)
        if not for_payroll:
            header, rows, totals = payouts_table(cycle)
            n = write_table(output, header, rows, fmt, totals=totals if fmt == "xlsx" else None)
            self.stdout.write(f"wrote {n} payouts to {output}")
            return
        actor = None
        if user:
            from django.contrib.auth import get_user_model

            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user {user}")
            with clear_errors():
                _assert_finance(actor)
        payouts = payouts_for_payroll(cycle)
        header, rows, totals = payout_rows(payouts)
        n = write_table(output, header, rows, fmt, totals=totals if fmt == "xlsx" else None)
        with open(output, "rb") as fh:
            content = fh.read()
        with clear_errors():
            batch = payroll_export_record(cycle=cycle, payouts=payouts, content=content, file_format=fmt, actor=actor)
        self.stdout.write(f"wrote {n} approved payouts to {output}; batch {batch.pk}, sha256 {batch.checksum}")
