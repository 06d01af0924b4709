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
    from django.core.management import call_command

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
    "import resource, runpy, sys\n"
    "sys.argv = ['manage.py', *sys.argv[2:]]\n"
    "try:\n"
    "    runpy.run_path('manage.py', run_name='__main__')\n"
    "finally:\n"
    "    open(sys.argv_peak, 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
)


def run_child(args: list[str], env_extra: dict | None = None) -> tuple[float, float]:
    """Run a manage.py command in a child process: (seconds, that process's own peak RSS in MB)."""
    import tempfile

    env = {**os.environ, **(env_extra or {})}
    with tempfile.NamedTemporaryFile(suffix=".peak") as peak_file:
        code = MEASURE.replace("sys.argv_peak", repr(peak_file.name))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, "-", *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        peak_kb = int(Path(peak_file.name).read_text() or 0)
    return seconds, peak_kb / 1024


def line(label, value, unit=""):
    print(f"  {label:<58} {value:>14,.2f} {unit}")
