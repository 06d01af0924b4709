"""A command that loses its database, its disk or a file says so in one line, with no traceback."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection

from config.middleware import FailureMiddleware
from performance.models import Staff, Ticket
from tests.factories import StaffFactory

ROOT = Path(__file__).resolve().parent.parent
ONE_LINE = "CommandError: "


def run(*args, env=None, timeout=120):
    """``manage.py`` as a user runs it: a new process; returns (exit code, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_clear_line(stderr: str, *words):
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(ONE_LINE) and "Traceback" not in stderr, stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_a_command_without_its_database_says_so_in_one_line(tmp_path):
    # given a DATABASE_URL whose server is not there
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere", "COMMAND_LOG_FILE": str(tmp_path / "c.log")}
    # when
    code, _out, err = run(
        "export_complaints",
        "--start",
        "2026-01-01",
        "--end",
        "2026-02-01",
        "--output",
        str(tmp_path / "c.csv"),
        env=env,
    )
    # then: one line saying what failed and what to do; the traceback is in the log
    assert code == 1
    assert_one_clear_line(err, "database is not reachable", "DATABASE_URL", str(tmp_path / "c.log"))
    assert "Traceback" in (tmp_path / "c.log").read_text()
    assert not (tmp_path / "c.csv").exists()


def test_traceback_shows_the_traceback_as_in_django(tmp_path):
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere", "COMMAND_LOG_FILE": str(tmp_path / "c.log")}
    code, _out, err = run(
        "export_complaints",
        "--start",
        "2026-01-01",
        "--end",
        "2026-02-01",
        "--output",
        str(tmp_path / "c.csv"),
        "--traceback",
        env=env,
    )
    assert code == 1 and "Traceback" in err and "OperationalError" in err


def test_a_file_that_is_not_there_is_one_line(tmp_path):
    code, _out, err = run("load_template", str(tmp_path / "gone.yaml"), env={"COMMAND_LOG_FILE": ""})
    assert code == 1
    assert_one_clear_line(err, "gone.yaml", "does not exist")


@pytest.mark.django_db
def test_a_full_disk_while_writing_an_export_is_one_line():
    with pytest.raises(CommandError, match="the disk is full while writing"):
        call_command(
            "export_complaints",
            "--start",
            "2026-01-01",
            "--end",
            "2026-02-01",
            "--output",
            "/dev/full",
            "--format",
            "csv",
        )


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_connection_is_cut_says_so_and_writes_nothing(tmp_path):
    # given a ticket file big enough to take a few seconds, and the import running as its own process
    StaffFactory(employee_no="E1")
    path = tmp_path / "t.csv"
    with path.open("w") as fh:
        fh.write("external_id,employee_no,created_at,first_response_at,rating\n")
        for i in range(400_000):
            fh.write(f"T{i:07d},E1,2026-01-05 10:00:00,2026-01-05 10:01:00,{1 + i % 5}\n")
    db = connection.settings_dict
    env = {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "COMMAND_LOG_FILE": str(tmp_path / "c.log"),
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "import_data", "tickets", str(path)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # when its database backend is terminated in the middle of the import
    deadline, killed = time.monotonic() + 60, False
    while not killed and time.monotonic() < deadline and proc.poll() is None:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid() AND state <> 'idle' AND query ILIKE '%%stage_%%'",
                [db["NAME"]],
            )
            killed = bool(cur.fetchall())
        time.sleep(0.05)
    out, err = proc.communicate(timeout=120)
    # then: one clear line, a non-zero exit, and nothing written
    assert killed, "the import finished before its backend could be terminated"
    assert proc.returncode == 1
    assert_one_clear_line(err, "connection was lost", "nothing was written")
    assert Ticket.objects.count() == 0 and Staff.objects.count() == 1


def test_a_page_that_loses_its_database_answers_503_with_one_line(rf):
    # given a request whose view lost its database connection
    request = rf.get("/team/")
    middleware = FailureMiddleware(lambda r: None)
    # when
    response = middleware.process_exception(request, OperationalError("server closed the connection unexpectedly"))
    # then: a page that says what failed, not a traceback; bugs are left to Django's 500
    assert response.status_code == 503
    assert "The database is not reachable or the connection was lost" in response.content.decode()
    assert middleware.process_exception(request, ValueError("a bug")) is None
