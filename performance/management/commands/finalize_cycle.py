from django.core.management.base import CommandError

from performance.appraisal.models import AppraisalCycle
from performance.appraisal.services import cycle_finalize
from performance.management.base import ProductCommand, acting_login, clear_errors


class Command(ProductCommand):
    help = "Finalize a cycle in review, acting as --user: its scores, ratings, appeals and input data are locked."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--user", required=True)

    def handle(self, name, user, **options):
        actor = acting_login(user)
        cycle = AppraisalCycle.objects.filter(name=name).first()
        if cycle is None:
            raise CommandError(f"no cycle named {name}")
        with clear_errors():
            cycle = cycle_finalize(cycle=cycle, actor=actor)
        self.stdout.write(f"cycle {name} finalized: its data, scores and ratings are locked")
