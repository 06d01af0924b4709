"""Page response times on PostgreSQL at company scale (reuses the database seeded by close_bench.py).

Median of 10 requests through Django's test client (the whole middleware stack, no network),
with the number of queries each page ran; production settings (DEBUG off, static files
collected as a deployment does).

    .venv/bin/python bench/close_bench.py   # once, to seed and close 2026-01
    .venv/bin/python bench/pages_bench.py
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import line, setup  # noqa: E402

TARGET_MS = 150


def main():
    import os

    os.environ.setdefault("DEBUG", "false")  # production settings, as the close bench
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")  # the test client speaks plain HTTP
    setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off serves the manifest's names
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from performance.models import Appraisal, AppraisalCycle, Ticket

    cycle = AppraisalCycle.objects.filter(name="2026-01").first()
    if cycle is None or not Appraisal.objects.filter(cycle=cycle).exists():
        sys.exit("seed and close first: .venv/bin/python bench/close_bench.py")
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    members = Appraisal.objects.filter(cycle=cycle).count()
    print(f"pages on PostgreSQL: {members:,} members in cycle {cycle.name}, {Ticket.objects.count():,} tickets")
    pages = [
        ("hr", f"/team/?cycle={cycle.pk}", f"team page, all {members:,} members (HR)"),
        ("hr", "/hr/", "HR dashboard"),
        ("manager", "/team/", "team page (a manager's subtree)"),
        ("agent", "/me/", "my results with breakdown and trend"),
        (admin.username, "/admin/performance/ticket/", "admin tickets changelist"),
        (admin.username, f"/admin/commission/payout/?cycle__id__exact={cycle.pk}", "admin payouts with totals"),
        (admin.username, f"/admin/performance/appraisal/?cycle__id__exact={cycle.pk}", "admin appraisals"),
    ]
    worst = 0.0
    for username, url, label in pages:
        client = Client()
        client.force_login(User.objects.get(username=username))
        client.get(url)  # warm
        times = []
        for _ in range(10):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        median = statistics.median(times)
        worst = max(worst, median)
        line(f"{label} [{len(ctx.captured_queries)} queries]", median, "ms")
    print("ratios")
    line(f"slowest page / {TARGET_MS} ms target", worst / TARGET_MS, "×")


if __name__ == "__main__":
    main()
