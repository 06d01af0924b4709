"""The cycle close on PostgreSQL at company scale: 5,000 staff and about 2,000,000 tickets.

Times `close_cycle --wait` (tasks in-process, so the figure is the work itself, on one core)
for the appraisal alone and for the whole close with payouts, beside the bare SQL floor (one
GROUP BY over the window computing the same ticket metrics as the close, conversion
included); prints both, the ratios and the peak memory of the closing process. The command
runs in a child process; its time is taken inside that process once Django is set up, and
the whole process's time (interpreter and Django start-up included) is printed beside it.
Production settings: DEBUG off.

    .venv/bin/python bench/close_bench.py [--staff 5000] [--tickets-per-day 16] [--reuse]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import line, reset_database, run_child, run_command, setup  # noqa: E402

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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=5000)
    parser.add_argument("--tickets-per-day", type=float, default=16)
    parser.add_argument("--sales-orders-per-day", type=float, default=6, help="about 200,000 orders at 5,000 staff")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded bench database")
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
    print("ratios and targets")
    line("appraisal close / floor (target ≤ 5)", appraisal_s / floor, "×")
    line("appraisal recompute / floor", again_appraisal_s / floor, "×")
    line("appraisal close / 15 s target", appraisal_s / 15, "×")
    line("whole close / appraisal close (target ≤ 1.5)", whole_s / appraisal_s, "×")
    line("whole close / floor (the appraisal's 5 plus 50%: ≤ 7.5)", whole_s / floor, "×")
    line("peak memory / 500 MB target", max(appraisal_mb, whole_mb) / 500, "×")


if __name__ == "__main__":
    main()
