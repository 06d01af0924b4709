from performance.management.base import ProductCommand, clear_errors, iso_date
from performance.qa.sampling import qa_sample


class Command(ProductCommand):
    help = "Draw the QA sample of tickets created in [start, end); again for the same window adds none."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=iso_date)
        parser.add_argument("--end", required=True, type=iso_date)
        parser.add_argument("--rate", help="share of each agent's tickets, default from settings (0.05)")
        parser.add_argument("--seed")

    def handle(self, start, end, rate=None, seed=None, **options):
        with clear_errors():
            result = qa_sample(start=start, end=end, rate=rate, seed=seed)
        self.stdout.write(
            f"sampled {result['sampled']} tickets of {result['agents']} agents; {result['created']} new inspections"
        )
