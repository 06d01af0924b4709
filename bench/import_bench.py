"""Ticket import speed on PostgreSQL, and how it grows with the file.

For each size (default 100,000, 500,000, 1,000,000 and 2,000,000 rows of one generated
file), in a fresh database of its own (``BENCH_DATABASE_URL`` + ``_import``): the floor, a
bare COPY of the same CSV into an index-less UNLOGGED table, then ``import_data tickets``
(whole process), its ratio to the floor and its time per row; then the growth of time per
row from the smallest to the biggest file, and the admin's door on a 20,000-row slice.
The generated files are kept under ``--files`` for the next run.

    .venv/bin/python bench/import_bench.py [--rows 100000,2000000] [--staff 5000]
"""

import argparse
import csv
import datetime
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_URL, line, reset_database, run_child, setup  # noqa: E402


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


def file_of(rows: int, staff: int, folder: Path) -> Path:
    """The generated file of ``rows`` rows (the first rows of the biggest one, generated once)."""
    path = folder / f"tickets-{staff}-{rows}.csv"
    if not path.exists():
        generate(path, rows, staff)
    return path


def fresh_database(url: str, staff: int):
    from django.core.management import call_command

    reset_database(url)
    call_command("migrate", verbosity=0)
    from performance.models import Staff, Team

    team = Team.objects.create(name="Bench")
    Staff.objects.bulk_create(
        Staff(employee_no=f"B{i:05d}", name=f"B{i}", team=team, role="agent") for i in range(staff)
    )


def copy_floor(path: Path) -> float:
    """Bare COPY of the same file into an index-less UNLOGGED table with the columns' types."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_copy (external_id text, employee_no text, kind text, "
            "channel text, customer_id text, created_at timestamptz, first_response_at timestamptz, "
            "avg_response_seconds int, resolved_at timestamptz, reopened boolean, rating text)"
        )
        cur.execute("TRUNCATE bench_copy")
        start = time.perf_counter()
        with (
            cur.cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as fh,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        took = time.perf_counter() - start
        cur.execute("DROP TABLE bench_copy")
    return took


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="100000,500000,1000000,2000000", help="file sizes, comma-separated")
    parser.add_argument("--staff", type=int, default=5000)
    parser.add_argument("--slice", type=int, default=20_000, help="rows through the admin door (0: skip)")
    parser.add_argument("--files", type=Path, default=Path(tempfile.gettempdir()) / "import-bench")
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]
    # a database of its own, so the close bench's seeded data survives this one
    base = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    url = setup(base + "_import")
    args.files.mkdir(parents=True, exist_ok=True)
    biggest = file_of(max(sizes), args.staff, args.files)
    for rows in sizes:
        path = args.files / f"tickets-{args.staff}-{rows}.csv"
        if not path.exists():
            with biggest.open() as src, path.open("w") as dst:
                for i, text in enumerate(src):
                    if i > rows:
                        break
                    dst.write(text)
    print(f"ticket import on PostgreSQL, {args.staff:,} staff; each size into a fresh database")
    figures = {}
    for rows in sizes:
        path = args.files / f"tickets-{args.staff}-{rows}.csv"
        fresh_database(url, args.staff)
        floor_s = copy_floor(path)
        seconds, peak = run_child(["import_data", "tickets", str(path)])
        again, _peak = run_child(["import_data", "tickets", str(path)])
        figures[rows] = (seconds, floor_s)
        print(f"{rows:,} rows")
        line("  bare COPY into an index-less table (floor)", floor_s, "s")
        line("  import_data tickets (first load, whole process)", seconds, "s")
        line("  import_data / floor (target ≤ 4 at 2,000,000)", seconds / floor_s, "×")
        line("  microseconds per row", seconds / rows * 1e6, "µs")
        line("  the same file again (every row known, none changed)", again, "s")
        line("  peak memory of the import process", peak, "MB")
    if len(sizes) > 1:
        print("growth")
        small, big = min(sizes), max(sizes)
        per_small, per_big = figures[small][0] / small, figures[big][0] / big
        line(f"time per row at {big:,} / at {small:,} (target 0.8–1.2)", per_big / per_small, "×")
        line(f"floor per row at {big:,} / at {small:,}", (figures[big][1] / big) / (figures[small][1] / small), "×")

    if args.slice:
        # the admin's door (the django-import-export resource built from the tickets kind) on a slice
        import tablib
        from django.db import connection

        from performance.common.import_doors import resource_class

        small = args.files / f"tickets-{args.staff}-slice-{args.slice}.csv"
        with biggest.open() as src, small.open("w") as dst:
            for i, text in enumerate(src):
                if i > args.slice:
                    break
                dst.write(text)
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
        line(f"admin door (django-import-export dataset through the kind), {args.slice:,} rows", iex_s, "s")
        line("  rows/s", args.slice / iex_s)
    reset_database(url)  # leave no big database behind
    from django.db import connections

    connections.close_all()


if __name__ == "__main__":
    main()
