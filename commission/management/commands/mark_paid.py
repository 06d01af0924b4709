from commission.models import Payout, PayoutStatus
from commission.workflow import payouts_mark_paid
from performance.management.base import ProductCommand, acting_login, clear_errors, cycle_named


class Command(ProductCommand):
    help = "Exported payouts of the cycle become paid, acting as --user."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--user", required=True)

    def handle(self, name, user, **options):
        actor = acting_login(user)
        cycle = cycle_named(name)
        payouts = list(Payout.objects.filter(cycle=cycle, status=PayoutStatus.EXPORTED))
        with clear_errors():
            n = payouts_mark_paid(payouts=payouts, actor=actor)
        self.stdout.write(f"marked {n} exported payouts of {name} paid")
