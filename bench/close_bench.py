"""The cycle close on PostgreSQL at company scale: 5,000 staff and about 2,000,000 tickets.

Times `close_cycle --wait` (tasks in-process, so the figure is the work itself, on one core)
for the appraisal alone and for the whole close with payouts, beside the bare SQL floor (one
GROUP BY over the window computing the same ticket metrics as the close, conversion
included); prints both, the ratios and the peak memory of the closing process. The command
runs in a child process; its time is taken inside that process once Django is set up, and
the whole process's time (interpreter and Django start-up included) is printed beside it.
Production settings: DEBUG off.

Then how the close spreads: the rows of tickets and orders each chunk's metric queries read
(``EXPLAIN (ANALYZE, BUFFERS)`` of every query of every chunk, summed over the scan nodes of
both tables) against the rows of the window, at chunk sizes 500 and 5,000; and the appraisal
close against a real broker (Redis, ``--broker``) with 1 and then 2 worker processes.

The seeded tickets are stored in arrival order (``CLUSTER`` on ``created_at`` after seeding),
as imports leave them, not member by member as ``seed_demo`` writes them.
``--results DIR`` writes every row the two closes wrote (tests/snapshots.py) to DIR, or,
when DIR holds them already, compares with them: the close's results before and after a change.

    .venv/bin/python bench/close_bench.py [--staff 5000] [--tickets-per-day 16] [--reuse]
        [--broker redis://127.0.0.1:6379/4] [--results DIR] [--skip-workers]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, line, reset_database, run_child, run_command, setup  # noqa: E402

ANCHOR = "2026-02-01"


def seed(args, url):
    from performance.models import Ticket

    if args.reuse and Ticket.objects.count() > 0:
        return None
    reset_database(url)
    run_child(["migrate"])
    seconds, _peak = run_child(
        [
            "seed_demo",
            "--staff",
            str(args.staff),
            "--days",
            "31",
            "--anchor",
            ANCHOR,
            "--tickets-per-day",
            str(args.tickets_per_day),
            "--no-close",
            "--seed",
            "5",
            "--sales-orders-per-day",
            str(args.sales_orders_per_day),
        ]
    )
    from django.db import connection

    with connection.cursor() as cur:  # arrival order, as imports store tickets
        cur.execute("CLUSTER performance_ticket USING performance_created_087a61_idx")
        cur.execute("VACUUM ANALYZE performance_ticket")
        cur.execute("VACUUM ANALYZE performance_order")
    return seconds


TICKET_FLOOR = """
    SELECT staff_id, count(*),
           count(*) FILTER (WHERE first_response_at <= created_at + interval '120 seconds'),
           count(*) FILTER (WHERE avg_response_seconds IS NOT NULL),
           count(*) FILTER (WHERE avg_response_seconds <= 180),
           count(*) FILTER (WHERE rating IS NOT NULL), count(*) FILTER (WHERE rating >= 4),
           count(*) FILTER (WHERE resolved_at IS NOT NULL),
           count(*) FILTER (WHERE resolved_at IS NOT NULL AND NOT reopened),
           sum(resolved_at - created_at)
           {conversion}
    FROM performance_ticket
    WHERE created_at >= '2026-01-01T00:00:00+08:00' AND created_at < '2026-02-01T00:00:00+08:00'
    GROUP BY staff_id"""
CONVERSION = """,
           count(*) FILTER (WHERE kind = 'inquiry'),
           count(*) FILTER (WHERE kind = 'inquiry' AND id IN (
               SELECT ticket_id FROM performance_order WHERE paid_at < '2026-02-01T00:00:00+08:00'))"""


def floor_seconds(*, conversion: bool = True) -> float:
    """Best of three runs of the hand-written aggregate (the fastest form measured)."""
    from django.db import connection

    sql = TICKET_FLOOR.format(conversion=CONVERSION if conversion else "")
    best = None
    for _ in range(3):
        start = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(sql)
            cur.fetchall()
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    return best


SCANNED = ("performance_ticket", "performance_order")


def _scan_rows(node, acc):
    if node.get("Relation Name") in SCANNED:
        loops = node.get("Actual Loops", 1)
        read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        read += node.get("Rows Removed by Index Recheck", 0)
        acc["rows"] += read * loops
        acc["pages"] += node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)
    for child in node.get("Plans", []):
        _scan_rows(child, acc)


def rows_read(cycle, size: int) -> dict:
    """Rows of tickets and orders the close's metric queries read, chunk by chunk of ``size`` members.

    Every query a chunk runs (captured), run again under EXPLAIN (ANALYZE, BUFFERS): rows
    returned and removed by filters at each scan node of the two tables, times its loops,
    and the pages those nodes touched.
    """
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from performance.appraisal.close import cycle_chunks
    from performance.appraisal.metrics import compute_metrics

    members = [sid for chunk in cycle_chunks(cycle) for sid in chunk]
    acc = {"rows": 0, "pages": 0, "chunks": 0}
    for start in range(0, len(members), size):
        ids = members[start : start + size]
        acc["chunks"] += 1
        with transaction.atomic():  # as a chunk runs: its settings hold for the EXPLAINs too
            with CaptureQueriesContext(connection) as ctx:
                compute_metrics(ids, cycle.start, cycle.end)
            for query in ctx.captured_queries:
                if not query["sql"].startswith("SELECT"):
                    continue
                with connection.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query["sql"])
                    plan = cur.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                _scan_rows(plan[0]["Plan"], acc)
    return acc


def window_rows(cycle) -> int:
    """Tickets created and orders paid in the cycle's window."""
    from performance.common.windows import window_bounds
    from performance.models import Order, Ticket

    start, end = window_bounds(cycle.start, cycle.end)
    tickets = Ticket.objects.filter(created_at__gte=start, created_at__lt=end).count()
    return tickets + Order.objects.filter(paid_at__gte=start, paid_at__lt=end).count()


def start_workers(n: int, broker: str) -> list:
    env = {**os.environ, "CELERY_BROKER_URL": broker, "PYTHONUNBUFFERED": "1"}
    procs = []
    for i in range(n):
        log = open(f"/tmp/close-bench-worker-{os.getpid()}-{i}.log", "w")  # noqa: SIM115 - closed in stop_workers
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "-c", "1", "-P", "prefork",
             "-n", f"bench{i}-{os.getpid()}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        proc.log = log
        procs.append(proc)
    deadline = time.monotonic() + 60
    for proc in procs:
        while "ready." not in Path(proc.log.name).read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    return procs


def stop_workers(procs) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.log.close()


def close_with_workers(name: str, n: int, broker: str) -> float:
    """Seconds of ``close_cycle NAME --wait`` (whole process) with ``n`` worker processes on ``broker``."""
    from config.celery import app

    app.conf.broker_url = broker
    app.control.purge()
    procs = start_workers(n, broker)
    try:
        run_command(["close_cycle", name, "--wait"], {"CELERY_BROKER_URL": broker})  # warm the workers once
        seconds, _command, _peak = run_command(["close_cycle", name, "--wait"], {"CELERY_BROKER_URL": broker})
    finally:
        stop_workers(procs)
    return seconds


def check_results(directory: Path, cycles) -> None:
    from tests.snapshots import close_snapshot, digest

    directory.mkdir(parents=True, exist_ok=True)
    for cycle in cycles:
        lines = close_snapshot(cycle)
        path = directory / f"{cycle.name}.txt"
        if not path.exists():
            path.write_text("\n".join(lines) + "\n")
            line(f"results of {cycle.name} written ({len(lines):,} rows, {digest(lines)[:12]})", len(lines), "rows")
            continue
        before = path.read_text().splitlines()
        same = before == lines
        line(f"results of {cycle.name} {'IDENTICAL to' if same else 'DIFFER from'} {path}", len(lines), "rows")
        if not same:
            changed = sorted(set(before) ^ set(lines))
            for text in changed[:10]:
                print("    ", ("- " if text in before else "+ ") + text[:160])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=5000)
    parser.add_argument("--tickets-per-day", type=float, default=16)
    parser.add_argument("--sales-orders-per-day", type=float, default=6, help="about 200,000 orders at 5,000 staff")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded bench database")
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--skip-workers", action="store_true", help="no runs against the broker")
    parser.add_argument("--results", type=Path, help="write, or compare with, every row the closes wrote")
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "false")  # production settings for the child processes too
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    url = setup()
    seeded = seed(args, url)
    from commission.models import CyclePlan
    from performance.appraisal.services import cycle_create
    from performance.models import AppraisalCycle, Order, Staff, Ticket

    cycle = AppraisalCycle.objects.get(name="2026-01")
    print(
        f"close on PostgreSQL: {Staff.objects.count():,} staff, {Ticket.objects.count():,} tickets, "
        f"{Order.objects.count():,} orders"
    )
    if seeded:
        line("seed_demo (not part of the close)", seeded, "s")
    AppraisalCycle.objects.filter(name="bench-appraisal").delete()
    only = cycle_create(name="bench-appraisal", start=cycle.start, end=cycle.end)
    CyclePlan.objects.filter(cycle=only).delete()

    floor = floor_seconds()
    line("floor: one GROUP BY over the window, the close's ticket metrics (best of 3)", floor, "s")
    line("  the same without conversion_rate (the floor before 2026-11-23)", floor_seconds(conversion=False), "s")
    appraisal_process, appraisal_s, appraisal_mb = run_command(["close_cycle", "bench-appraisal", "--wait"])
    line("close_cycle --wait, appraisal only", appraisal_s, "s")
    line("  the same process including interpreter and Django start-up", appraisal_process, "s")
    line("  peak memory of the closing process", appraisal_mb, "MB")
    whole_process, whole_s, whole_mb = run_command(["close_cycle", "2026-01", "--wait"])
    payouts = cycle.payouts.count()
    line(f"close_cycle --wait, appraisal + {payouts:,} payouts", whole_s, "s")
    line("  the same process including start-up", whole_process, "s")
    line("  peak memory of the closing process", whole_mb, "MB")
    _again_process, again_s, _ = run_command(["close_cycle", "2026-01", "--wait"])
    line("closing again (recompute, unchanged results)", again_s, "s")
    _again_process, again_appraisal_s, _ = run_command(["close_cycle", "bench-appraisal", "--wait"])
    line("closing the appraisal-only cycle again (recompute)", again_appraisal_s, "s")
    if args.results:
        check_results(args.results, [only, cycle])

    print("how the close spreads (metric queries of every chunk under EXPLAIN ANALYZE)")
    in_window = window_rows(only)
    line("rows in the window (tickets created + orders paid)", in_window, "rows")
    spread = {}
    for size in (500, 5000):
        spread[size] = rows_read(only, size)
        line(
            f"chunks of {size:,}: {spread[size]['chunks']} chunks, rows of tickets and orders read",
            spread[size]["rows"],
            "rows",
        )
        line("  pages touched by those scans (8 kB)", spread[size]["pages"], "pages")
    workers = {}
    if not args.skip_workers:
        for n in (1, 2):
            workers[n] = close_with_workers("bench-appraisal", n, args.broker)
            line(f"close_cycle --wait, appraisal only, {n} worker process(es) on {args.broker}", workers[n], "s")

    print("ratios and targets (each figure beside its floor, same run)")
    line("appraisal close (whole process) / floor (target ≤ 3)", appraisal_process / floor, "×")
    line("appraisal close (command alone) / floor", appraisal_s / floor, "×")
    line("appraisal recompute / floor", again_appraisal_s / floor, "×")
    line("whole close / appraisal close, whole processes (target ≤ 3)", whole_process / appraisal_process, "×")
    line("whole close / appraisal close, commands alone", whole_s / appraisal_s, "×")
    for size, acc in spread.items():
        line(f"rows read / rows in the window, chunks of {size:,} (target ≤ 1.2)", acc["rows"] / in_window, "×")
    if workers:
        line("1 worker / 2 workers (target ≥ 1.6)", workers[1] / workers[2], "×")
        line("appraisal close with 2 workers / floor", workers[2] / floor, "×")
    line("peak memory / 500 MB target", max(appraisal_mb, whole_mb) / 500, "×")


if __name__ == "__main__":
    main()
