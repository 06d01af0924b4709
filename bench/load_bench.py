"""Concurrent load on the main pages, through gunicorn as docs/deployment.md runs it.

A company of 2,000 staff on PostgreSQL (seeded once, reused), gunicorn with DEBUG=false and
collected static files, then the same mix of pages from one client alone and from 20
concurrent clients: requests/s, p50/p95/p99 latency and errors for each, side by side.

    .venv/bin/python bench/load_bench.py [--clients 20] [--seconds 60] [--staff 2000] [--workers 4]

Every client takes the pages of every login (staff, sales, manager, QA, HR, finance, an
admin) in turn, each with that login's session, starting at a different page; one client
alone takes the same mix. Sessions are created in the database, so the login page (and its
throttling) is not part of the load; a page that fails or sends to the login page counts as
an error, and the run stops if any does before the load starts.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, line, setup  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/appraisal_load"
# The server's settings, which this process takes too: sessions it writes are signed with the key
SERVER_SETTINGS = {"DEBUG": "false", "SECRET_KEY": "bench-only-0123456789-not-secret-0123456789-abcdefghij"}


def seed(staff: int) -> None:
    from django.core.management import call_command

    from performance.models import Staff

    if Staff.objects.count() >= staff:
        return
    if Staff.objects.exists():
        sys.exit(f"the load database has fewer than {staff} staff: drop it (BENCH_DATABASE_URL) and run again")
    start = time.perf_counter()
    call_command("seed_demo", "--staff", str(staff), "--days", "45", "--tickets-per-day", "4", "--anchor", "2026-02-01")
    line("seed_demo (once; reused by later runs)", time.perf_counter() - start, "s")


def sessions() -> dict[str, str]:
    """A session cookie per login, made in the database."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    cookies = {}
    for username in ("agent", "sales", "manager", "qa", "hr", "finance", "bench-admin"):
        user = User.objects.get(username=username)
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "config.auth.LoginBackend"  # the backend a password login records
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        cookies[username] = f"{settings.SESSION_COOKIE_NAME}={store.session_key}"
    return cookies


def pages() -> dict[str, list[str]]:
    from performance.models import AppraisalCycle

    cycle = AppraisalCycle.objects.filter(state__in=["review", "finalized"]).order_by("-start").first()
    return {
        "agent": ["/me/", "/commission/statements/"],
        "sales": ["/me/", "/commission/statements/"],
        "manager": ["/team/"],
        "qa": ["/qa/", "/qa/dashboard/"],
        "hr": ["/hr/", f"/team/?cycle={cycle.pk}"],
        "finance": [f"/admin/commission/payout/?cycle__id__exact={cycle.pk}"],
        "bench-admin": [
            "/admin/performance/ticket/",
            "/admin/performance/order/",
            "/admin/performance/complaint/",
            f"/admin/performance/appraisal/?cycle__id__exact={cycle.pk}",
        ],
    }


def start_gunicorn(url: str, port: int, workers: int, static_root: str) -> subprocess.Popen:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"port {port} is in use (an earlier server?): stop it or pass --port")
    env = {
        **os.environ,
        **SERVER_SETTINGS,
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    log = open(Path(static_root) / "gunicorn.log", "w")  # noqa: SIM115 - open while the server runs
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    proc = subprocess.Popen([*command, "--timeout", "120"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return proc
        except OSError:  # not listening yet, or still booting
            time.sleep(0.3)
    proc.kill()
    sys.exit("gunicorn did not start")


def load(port: int, cookies: dict, mix: dict, clients: int, seconds: float) -> dict:
    """``clients`` threads taking every page of the mix in turn (each with its login's session),
    starting at different pages, until time is up: one client alone and many take the same mix."""
    pairs = [(login, url) for login, urls in mix.items() for url in urls]
    latencies, by_page, errors, lock = [], {}, [], threading.Lock()
    stop = time.monotonic() + seconds

    def client(i: int):
        n = i
        while time.monotonic() < stop:
            login, url = pairs[n % len(pairs)]
            n += 1
            request = urllib.request.Request(f"http://127.0.0.1:{port}{url}", headers={"Cookie": cookies[login]})
            begin, failure = time.perf_counter(), None
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                    if "login" in urllib.parse.urlsplit(response.geturl()).path:  # the session did not hold
                        failure = f"redirected to {response.geturl()}"
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:  # HTTPError: a status ≠ 2xx
                failure = exc
            elapsed = time.perf_counter() - begin
            with lock:
                latencies.append(elapsed)
                by_page.setdefault(url, []).append(elapsed)
                if failure is not None:
                    errors.append((url, failure))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p95": pct(95),
        "p99": pct(99),
        "errors": len(errors),
        "examples": errors[:3],
        "pages": {url: statistics.median(times) * 1000 for url, times in by_page.items()},
    }


def report(label: str, r: dict) -> None:
    print(label)
    line("  requests", r["requests"])
    line("  requests/s", r["rps"])
    line("  p50", r["p50"], "ms")
    line("  p95", r["p95"], "ms")
    line("  p99", r["p99"], "ms")
    line("  errors", r["errors"])
    for example in r["examples"]:
        print(f"    e.g. {example}")
    print("  median by page")
    for url, ms in sorted(r["pages"].items(), key=lambda item: -item[1]):
        line(f"    {url[:60]}", ms, "ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--alone-seconds", type=float, default=20)
    parser.add_argument("--staff", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (docs/deployment.md: -w 4)")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.update(SERVER_SETTINGS)
    url = setup()
    seed(args.staff)
    cookies, mix = sessions(), pages()
    from django.db import connections

    connections.close_all()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as static_root:
        server = start_gunicorn(url, args.port, args.workers, static_root)
        try:
            print(
                f"load through gunicorn -w {args.workers} on {os.cpu_count()} cores, {args.staff:,} staff; "
                f"{sum(len(v) for v in mix.values())} pages for {len(mix)} logins"
            )
            warm = load(args.port, cookies, mix, 1, 3)  # warm every worker's caches
            if warm["errors"]:  # a page that fails or sends to the login page would time the wrong thing
                sys.exit(f"pages fail before the load: {warm['examples']}")
            alone = load(args.port, cookies, mix, 1, args.alone_seconds)
            report("one client alone", alone)
            busy = load(args.port, cookies, mix, args.clients, args.seconds)
            report(f"{args.clients} concurrent clients for {args.seconds:.0f} s", busy)
            if alone["errors"] or busy["errors"]:
                print("the server's log ends with:")
                print("".join((Path(static_root) / "gunicorn.log").read_text().splitlines(True)[-30:]))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("ratios and targets")
    line("p95 with load / 1 s target", busy["p95"] / 1000, "×")
    line("p95 with load / p95 alone", busy["p95"] / alone["p95"], "×")
    line("requests/s with load / alone", busy["rps"] / alone["rps"], "×")
    line("errors (target 0)", busy["errors"])


if __name__ == "__main__":
    main()
