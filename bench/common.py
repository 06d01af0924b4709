"""Shared set-up for the benchmarks: a PostgreSQL database of their own, timings, peak memory."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/appraisal_bench"


def setup(url: str | None = None):
    """Point Django at the bench database (created and migrated if missing) and set it up."""
    url = url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("CELERY_BROKER_URL", None)  # in-process tasks: the bench times the work itself
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    logging.getLogger("axes").setLevel(logging.WARNING)  # the benches log in many times: no line each
    call_command("migrate", verbosity=0)
    return url


def reset_database(url: str):
    """Drop and re-create the bench database, so every run starts from the same state."""
    import psycopg
    from django.db import connections

    connections.close_all()

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def timed(label: str, results: dict):
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start


MEASURE = (
    "import os, resource, sys, time\n"
    "sys.argv = ['manage.py', *sys.argv[2:]]\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
    "import django\n"
    "django.setup()\n"
    "from django.core.management import execute_from_command_line\n"
    "start = time.perf_counter()\n"
    "try:\n"
    "    execute_from_command_line(sys.argv)\n"
    "finally:\n"
    "    took = time.perf_counter() - start\n"
    "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "    open(sys.argv_peak, 'w').write(f'{peak} {took}')\n"
)


def run_command(args: list[str], env_extra: dict | None = None) -> tuple[float, float, float]:
    """Run a manage.py command in a child process.

    Returns (seconds of the whole process, seconds of the command itself once Django is set
    up, that process's own peak RSS in MB). Interpreter and Django start-up (about 0.7 s
    here) are the difference between the first two.
    """
    import tempfile

    env = {**os.environ, **(env_extra or {})}
    with tempfile.NamedTemporaryFile(suffix=".peak") as peak_file:
        code = MEASURE.replace("sys.argv_peak", repr(peak_file.name))
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code, "-", *args],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
        peak_kb, command_seconds = Path(peak_file.name).read_text().split()
    return seconds, float(command_seconds), int(peak_kb) / 1024


def run_child(args: list[str], env_extra: dict | None = None) -> tuple[float, float]:
    """Run a manage.py command in a child process: (seconds, that process's own peak RSS in MB)."""
    seconds, _command, peak_mb = run_command(args, env_extra)
    return seconds, peak_mb


def line(label, value, unit=""):
    print(f"  {label:<58} {value:>14,.2f} {unit}")
