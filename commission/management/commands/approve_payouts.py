from django.core.management.base import CommandError

from commission.models import Payout
from commission.workflow import payouts_approve
from performance.management.base import ProductCommand, acting_login, clear_errors, cycle_named


class Command(ProductCommand):
    help = (
        "Calculated payouts of the cycle become approved (only the named members with --employee), acting as "
        "--user; payouts on hold stay on hold and are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--user", required=True)
        parser.add_argument("--employee", action="append", dest="employees", default=[])

    def handle(self, name, user, employees, **options):
        actor = acting_login(user)
        cycle = cycle_named(name)
        payouts = Payout.objects.filter(cycle=cycle)
        if employees:
            payouts = payouts.filter(staff__employee_no__in=employees)
            missing = set(employees) - set(payouts.values_list("staff__employee_no", flat=True))
            if missing:
                raise CommandError(f"no payout in {name} for {', '.join(sorted(missing))}")
        with clear_errors():
            result = payouts_approve(payouts=list(payouts), actor=actor)
        self.stdout.write(f"approved {result.moved} payouts of {name}")
        if result.held:
            self.stdout.write(f"{len(result.held)} payouts on hold stay on hold:")
            for payout in result.held:
                self.stdout.write(f"  {payout.staff.employee_no} {payout.plan.code}: {payout.hold_reason}")
