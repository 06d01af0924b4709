from performance.ingest.holidays_cn import holidays_load
from performance.management.base import ProductCommand, acting_login, clear_errors


class Command(ProductCommand):
    help = (
        "Enter mainland China's public holidays and make-up working days (调休) of a year into a business "
        "calendar (the default one unless --calendar), from the chinese-calendar package."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--calendar", help="a business calendar's name (default: the default calendar)")
        parser.add_argument("--user", help="the login it acts as (refused unless it may import holidays)")

    def handle(self, year, calendar=None, user=None, **options):
        actor = acting_login(user) if user else None
        with clear_errors():
            result = holidays_load(year=year, calendar=calendar, actor=actor)
        self.stdout.write(
            f"{year}: {result.holidays} holidays and {result.workdays} make-up working days entered "
            f"({result.created} new) from chinese-calendar {result.source}"
        )
