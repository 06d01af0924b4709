"""PostgreSQL + Redis + a real Celery worker process (run with DATABASE_URL and CELERY_BROKER_URL set)."""

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import Appraisal, AppraisalCycle, CloseChunk, CycleState, IndicatorResult, KciRating
from tests.factories import make_population

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("CELERY_BROKER_URL")),
        reason="needs DATABASE_URL=postgres://… and CELERY_BROKER_URL (the CI's second run sets both)",
    ),
]


WATCHDOG = {"CLOSE_WATCHDOG_SECONDS": "2", "CLOSE_STALL_MIN_SECONDS": "8"}


def start_worker(log: Path, *, beat: bool = False, **env_overrides) -> subprocess.Popen:
    """A real `celery worker` on the test database in a process group of its own: prefork, one child,
    chunks of one member, each pausing 2 s; with ``beat`` it runs the beat too (the watchdog)."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CLOSE_CHUNK_SIZE": "1",
        "CLOSE_CHUNK_PAUSE_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
        **env_overrides,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-l",
        "info",
        "-c",
        "1",
        "-P",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat:
        command += ["-B", "-s", str(log.parent / f"beat-{log.stem}")]
    with log.open("a") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "ready." in log.read_text(), log.read_text()
    proc.log = log
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def worker(tmp_path):
    app.control.purge()
    proc = start_worker(tmp_path / "worker.log")
    yield proc
    stop(proc)


def pool_children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def wait_closed(cycle, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cycle.refresh_from_db()
        if cycle.state in (CycleState.REVIEW, CycleState.FAILED):
            return cycle
        time.sleep(0.2)
    raise AssertionError(f"cycle still {cycle.state} ({cycle.progress_done}/{cycle.progress_total})")


def snapshot(cycle):
    appraisals = sorted(
        Appraisal.objects.filter(cycle=cycle).values_list(
            "staff__employee_no", "final_score", "rank", "grade", "eligible"
        )
    )
    indicators = sorted(
        IndicatorResult.objects.filter(appraisal__cycle=cycle).values_list(
            "appraisal__staff__employee_no", "indicator", "raw_value", "score", "contribution"
        )
    )
    return appraisals, indicators


def test_a_close_runs_through_a_real_worker_and_survives_a_killed_pool_child(worker, agent_template):
    assert settings.CELERY_BROKER_URL and connection.vendor == "postgresql"
    a, _b, _c = make_population()
    calm = cycle_create(name="calm", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    stormy = cycle_create(name="stormy", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    for cycle in (calm, stormy):
        KciRating.objects.create(cycle=cycle, staff=a, indicator="attitude", rating=4)

    # an undisturbed close through the worker
    cycle_close(cycle=calm)
    assert wait_closed(calm).state == CycleState.REVIEW, calm.error
    expected = snapshot(calm)
    assert [r[:4] for r in expected[0]] == [
        ("E001", Decimal("66.29"), 2, "needs_improvement"),
        ("E002", Decimal("100.00"), 1, "excellent"),
        ("E003", Decimal("100.00"), None, "not_rated"),
    ]

    # the same close, with the pool child killed in the middle of a chunk: the broker hands the chunk back
    received = "cycle_metrics_chunk_task"
    seen = worker.log.read_text().count(received)
    cycle_close(cycle=stormy)
    deadline = time.monotonic() + 30
    while worker.log.read_text().count(received) == seen and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.8)  # inside the first chunk's 2 s pause: nothing of it is committed yet
    children = pool_children(worker.pid)
    assert children, "no pool child to kill"
    for child in children:
        os.kill(child, signal.SIGKILL)
    assert wait_closed(stormy, timeout=180).state == CycleState.REVIEW, stormy.error
    assert "WorkerLostError" in worker.log.read_text()
    assert snapshot(stormy) == expected
    assert AppraisalCycle.objects.get(pk=stormy.pk).progress_done == 3


def test_a_close_finishes_after_its_whole_worker_is_killed_and_a_new_one_starts(tmp_path, agent_template):
    """The main process and its children killed, as when a machine dies: the messages of the chunks it held
    stay unacknowledged in Redis for the visibility timeout (an hour); the watchdog of the next worker's beat
    sends those chunks again within seconds, and the close ends as a clean one."""
    app.control.purge()
    a, _b, _c = make_population()
    calm = cycle_create(name="calm", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    crash = cycle_create(name="crash", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    for cycle in (calm, crash):
        KciRating.objects.create(cycle=cycle, staff=a, indicator="attitude", rating=4)
    first = start_worker(tmp_path / "first.log", beat=True, **WATCHDOG)
    try:
        cycle_close(cycle=calm)
        assert wait_closed(calm).state == CycleState.REVIEW, calm.error
        expected = snapshot(calm)
        # when: the close starts, and the whole worker (main process, pool, beat) dies inside a chunk
        seen = first.log.read_text().count("cycle_metrics_chunk_task")
        cycle_close(cycle=crash)
        deadline = time.monotonic() + 30
        while first.log.read_text().count("cycle_metrics_chunk_task") == seen and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.8)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    killed_at = time.monotonic()
    second = start_worker(tmp_path / "second.log", beat=True, **WATCHDOG)
    try:
        # then: it finishes within a stated bound (the stall bound, a watchdog tick, three 2 s chunks, slack)
        assert wait_closed(crash, timeout=90).state == CycleState.REVIEW, crash.error
        assert time.monotonic() - killed_at < 90
        assert snapshot(crash) == expected
        assert CloseChunk.objects.filter(cycle=crash, resends__gt=0).exists()
    finally:
        stop(second)


def test_production_shape_gunicorn_whitenoise_and_healthz(tmp_path):
    """gunicorn serving the site with DEBUG=false, static files through whitenoise, /healthz green."""

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "false",
        "SECRET_KEY": "integration-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

        assert json.loads(health.read()) == {"status": "ok"}  # status only to anyone: details are for superusers
        login = urllib.request.urlopen(f"{base}/login/", timeout=5).read().decode()
        css = "css/app." + login.split('href="/static/css/app.', 1)[1].split('"', 1)[0]
        assert css.startswith("css/app.") and css.endswith(".css")  # hashed name from the manifest
        static = urllib.request.urlopen(f"{base}/static/{css}", timeout=5)
        assert static.status == 200 and b"--accent" in static.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
