from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from commission.payroll import payouts_file, write_payouts
from commission.selectors import approved_for_payroll, payout_list
from commission.workflow import assert_finance, payroll_export_record
from performance.common.exporting import choose_format
from performance.management.base import ProductCommand, clear_errors
from performance.models import AppraisalCycle


class Command(ProductCommand):
    help = (
        "One row per payout of the cycle, changing nothing. With --for-payroll: only approved payouts, "
        "which are then marked exported and recorded in a batch with the file's checksum."
    )

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
            n = write_payouts(output, payout_list(cycle=cycle), fmt)
            self.stdout.write(f"wrote {n} payouts to {output}")
            return
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user {user}")
            with clear_errors():
                assert_finance(actor)
        payouts = approved_for_payroll(cycle=cycle)
        content = payouts_file(payouts, fmt)
        with clear_errors():
            batch = payroll_export_record(cycle=cycle, payouts=payouts, content=content, file_format=fmt, actor=actor)
        with open(output, "wb") as fh:
            fh.write(content)
        self.stdout.write(
            f"wrote {len(payouts)} approved payouts to {output}; batch {batch.pk}, sha256 {batch.checksum}"
        )
