from django.core.management.base import CommandError

from commission.payroll import write_payouts
from commission.selectors import payout_list
from commission.workflow import payroll_export
from performance.common.exporting import choose_format
from performance.management.base import ProductCommand, acting_login, clear_errors, cycle_named


class Command(ProductCommand):
    help = (
        "One row per payout of the cycle, changing nothing. With --for-payroll --user LOGIN: the approved "
        "payouts not yet exported, which are then marked exported, exactly once, and recorded in a batch with "
        "the file's checksum; run again (or at the same time), it writes the header row only."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--output", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"])
        parser.add_argument("--for-payroll", action="store_true")
        parser.add_argument("--user", help="with --for-payroll (required there): the login that exports")

    def handle(self, name, output, format=None, for_payroll=False, user=None, **options):
        cycle = cycle_named(name)
        fmt = choose_format(output, format)
        if not for_payroll:
            n = write_payouts(output, payout_list(cycle=cycle), fmt)
            self.stdout.write(f"wrote {n} payouts to {output}")
            return
        if not user:
            raise CommandError("--for-payroll needs --user LOGIN: the login that exports")
        actor = acting_login(user)
        with clear_errors():
            batch, content = payroll_export(cycle=cycle, actor=actor, file_format=fmt)
        with open(output, "wb") as fh:
            fh.write(content)
        if batch is None:
            self.stdout.write(f"nothing left to export for {name}: every approved payout was exported already")
            return
        self.stdout.write(
            f"wrote {batch.payout_count} approved payouts to {output}; batch {batch.pk}, sha256 {batch.checksum}"
        )
