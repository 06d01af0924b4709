"""QA sampling on PostgreSQL over a month of about 2,000,000 tickets, beside a bare SQL count
over the same window (the floor). Reuses the database seeded by close_bench.py.

Draws with the configured seed (``QA_SEED``: the keys every ticket stores), again (adds
none), then the same draw hashing every ticket as before stored keys, and checks that both
drew the same tickets.

    .venv/bin/python bench/close_bench.py   # once, to seed
    .venv/bin/python bench/qa_bench.py
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import line, setup  # noqa: E402


def main():
    setup()
    import datetime

    from django.db import connection

    from performance.models import Inspection, Ticket
    from performance.qa.sampling import qa_sample

    total = Ticket.objects.count()
    if total < 100_000:
        sys.exit("seed the bench database first: .venv/bin/python bench/close_bench.py")
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
    in_window = Ticket.objects.filter(
        created_at__gte="2026-01-01T00:00:00+08:00", created_at__lt="2026-02-01T00:00:00+08:00"
    ).count()
    print(f"QA sampling on PostgreSQL: {in_window:,} tickets in the window ({total:,} in all)")
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT staff_id, count(*) FROM performance_ticket WHERE created_at >= %s AND created_at < %s "
            "GROUP BY staff_id",
            ["2026-01-01T00:00:00+08:00", "2026-02-01T00:00:00+08:00"],
        )
        cur.fetchall()
    floor = time.perf_counter() - t0
    line("floor: bare count per agent over the window", floor, "s")
    from django.conf import settings

    def clear():  # this benchmark's own draws only: the demo's weekly (scored) samples stay
        Inspection.objects.filter(window_start=start, window_end=end).delete()

    def drawn():
        return set(Inspection.objects.filter(window_start=start).values_list("ticket_id", flat=True))

    seed = settings.QA["SEED"]
    clear()
    t0 = time.perf_counter()
    result = qa_sample(start=start, end=end, seed=seed)
    first = time.perf_counter() - t0
    stored = drawn()
    line(f"qa_sample, first draw, seed {seed!r} (stored keys; {result['created']:,} inspections)", first, "s")
    t0 = time.perf_counter()
    again = qa_sample(start=start, end=end, seed=seed)
    second = time.perf_counter() - t0
    assert again["created"] == 0
    line("qa_sample again (same draw, adds none)", second, "s")
    line("  sample rate", result["sampled"] / in_window * 100, "%")
    clear()
    t0 = time.perf_counter()
    qa_sample(start=start, end=end, seed=seed, stored_keys=False)
    hashed = time.perf_counter() - t0
    line("the same draw hashing every ticket (as before stored keys)", hashed, "s")
    same = drawn() == stored
    line(f"  the same tickets: {'yes' if same else 'NO'}", len(stored), "tickets")
    print("ratios")
    line("qa_sample (stored keys) / floor (target ≤ 5)", first / floor, "×")
    line("qa_sample again / floor", second / floor, "×")
    line("hashing every ticket / floor", hashed / floor, "×")


if __name__ == "__main__":
    main()
