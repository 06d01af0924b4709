from performance.appraisal.services import cycle_finalize
from performance.management.base import ProductCommand, acting_login, clear_errors, cycle_named


class Command(ProductCommand):
    help = "Finalize a cycle in review, acting as --user: its scores, ratings, appeals and input data are locked."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--user", required=True)

    def handle(self, name, user, **options):
        actor = acting_login(user)
        cycle = cycle_named(name)
        with clear_errors():
            cycle = cycle_finalize(cycle=cycle, actor=actor)
        self.stdout.write(f"cycle {name} finalized: its data, scores and ratings are locked")
