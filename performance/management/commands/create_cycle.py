from performance.appraisal.services import cycle_create
from performance.management.base import ProductCommand, clear_errors, iso_date


class Command(ProductCommand):
    help = "Open a cycle over [start, end), end exclusive. Without --template: every active template."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--start", required=True, type=iso_date)
        parser.add_argument("--end", required=True, type=iso_date)
        parser.add_argument("--template", action="append", dest="templates", default=[])
        parser.add_argument("--plan", action="append", dest="plans", default=[])
        parser.add_argument("--appeal-days", type=int)

    def handle(self, name, start, end, templates, plans, appeal_days=None, **options):
        with clear_errors():
            cycle = cycle_create(
                name=name,
                start=start,
                end=end,
                templates=templates or None,
                plans=plans or None,
                appeal_days=appeal_days,
            )
        codes = ", ".join(str(t) for t in cycle.templates.order_by("code"))
        self.stdout.write(f"cycle {cycle.name} open over [{start}, {end}) with templates: {codes or '-'}")
