"""Ticket import speed on PostgreSQL: `import_data tickets` of a generated 1,000,000-row file,
bare COPY of the same file into an index-less table (the floor), and django-import-export's
default import of a 20,000-row slice. Prints rows/s of each and the ratios.

    .venv/bin/python bench/import_bench.py [--rows 1000000] [--staff 5000]
"""

import argparse
import csv
import datetime
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import line, reset_database, run_child, setup  # noqa: E402


def generate(path: Path, rows: int, staff: int, seed: int = 1):
    rng = random.Random(seed)
    start = datetime.datetime(2026, 1, 1, 8)  # noqa: DTZ001 - naive on purpose: read in TIME_ZONE
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "external_id",
                "employee_no",
                "kind",
                "channel",
                "customer_id",
                "created_at",
                "first_response_at",
                "avg_response_seconds",
                "resolved_at",
                "reopened",
                "rating",
            ]
        )
        for i in range(rows):
            created = start + datetime.timedelta(seconds=i * 2)
            w.writerow(
                [
                    f"T{i:09d}",
                    f"B{rng.randrange(staff):05d}",
                    "support",
                    "chat",
                    f"C{rng.randrange(99999)}",
                    created.isoformat(sep=" "),
                    (created + datetime.timedelta(seconds=rng.randint(5, 300))).isoformat(sep=" "),
                    rng.randint(20, 400),
                    (created + datetime.timedelta(minutes=rng.randint(2, 90))).isoformat(sep=" "),
                    "false",
                    rng.choice(["", "5", "4", "3"]),
                ]
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--staff", type=int, default=5000)
    parser.add_argument("--slice", type=int, default=20_000)
    args = parser.parse_args()
    url = setup()
    reset_database(url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from performance.models import Staff, Team

    team = Team.objects.create(name="Bench")
    Staff.objects.bulk_create(
        Staff(employee_no=f"B{i:05d}", name=f"B{i}", team=team, role="agent") for i in range(args.staff)
    )
    tmp = Path(tempfile.mkdtemp())
    big, small = tmp / "tickets.csv", tmp / "slice.csv"
    generate(big, args.rows, args.staff)
    with big.open() as src, small.open("w") as dst:
        for i, row in enumerate(src):
            if i > args.slice:
                break
            dst.write(row)
    print(f"ticket import on PostgreSQL, {args.rows:,} rows, {args.staff:,} staff")

    # 1. the product's import (child process: its own peak memory)
    seconds, peak = run_child(["import_data", "tickets", str(big)])
    product = args.rows / seconds
    line("import_data tickets (first load)", seconds, "s")
    line("  rows/s", product)
    line("  peak memory of the import process", peak, "MB")
    seconds2, peak2 = run_child(["import_data", "tickets", str(big)])
    line("import_data tickets again (every row an update)", seconds2, "s")
    line("  rows/s", args.rows / seconds2)

    # 2. the floor: bare COPY of the same file into an index-less table
    with connection.cursor() as cur:
        cur.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_copy (external_id text, employee_no text, kind text, "
            "channel text, customer_id text, created_at timestamptz, first_response_at timestamptz, "
            "avg_response_seconds int, resolved_at timestamptz, reopened boolean, rating text)"
        )
        cur.execute("TRUNCATE bench_copy")
        start = time.perf_counter()
        with cur.cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, big.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        floor_s = time.perf_counter() - start
        cur.execute("DROP TABLE bench_copy")
    floor = args.rows / floor_s
    line("bare COPY into an index-less table (floor)", floor_s, "s")
    line("  rows/s", floor)

    # 3. the admin's door (the django-import-export resource built from the tickets kind) on a slice
    import tablib

    from performance.common.import_doors import resource_class

    TicketResource = resource_class("tickets")  # noqa: N806

    with connection.cursor() as cur:
        cur.execute("TRUNCATE performance_ticket CASCADE")
    dataset = tablib.Dataset().load(small.read_text(encoding="utf-8"), format="csv")
    start = time.perf_counter()
    result = TicketResource().import_data(
        dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
    )
    iex_s = time.perf_counter() - start
    assert not result.has_errors() and not result.has_validation_errors()
    iex = args.slice / iex_s
    line(f"admin door (django-import-export dataset through the kind), {args.slice:,} rows", iex_s, "s")
    line("  rows/s", iex)
    print("ratios")
    line("import_data / COPY floor (rows/s)", product / floor, "×")
    line("import_data / admin door (rows/s)", product / iex, "×")
    line("target 50,000 rows/s met" if product >= 50_000 else "target 50,000 rows/s NOT met", product / 50_000, "×")


if __name__ == "__main__":
    main()
