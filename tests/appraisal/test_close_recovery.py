"""A close whose chunk is lost is sent again by the watchdog, once, and a late original never writes."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from performance.appraisal import runs
from performance.appraisal.close import cycle_score
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import Appraisal, AppraisalCycle, ChunkState, CloseChunk, CycleState, MemberMetrics
from tests.factories import UserFactory, make_population

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


def results(cycle):
    return sorted(
        Appraisal.objects.filter(cycle=cycle).values_list("staff__employee_no", "final_score", "rank", "grade")
    )


def start_without_sending(name, django_capture_on_commit_callbacks):
    """A close whose chunks were planned but, as if the broker lost them, never reached a worker."""
    cycle = cycle_create(name=name, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    with django_capture_on_commit_callbacks(execute=False):
        cycle_close(cycle=cycle)
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def small_chunks(settings):
    settings.APPRAISAL = {**settings.APPRAISAL, "CLOSE_CHUNK_SIZE": 1, "CLOSE_STALL_MIN_SECONDS": 60}


def test_a_lost_chunk_is_sent_again_after_its_bound_and_the_late_original_writes_nothing(
    agent_template, small_chunks, django_capture_on_commit_callbacks
):
    # given a clean close to compare with, and a close whose chunks were sent once and lost
    make_population()
    clean = cycle_create(name="clean", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(cycle=clean, inline=True)
    cycle = start_without_sending("lost", django_capture_on_commit_callbacks)
    first = runs.claim_unsent(cycle_id=cycle.pk, run=cycle.close_run)
    assert [s.number for s in first] == [1, 1, 1]
    # when: before the bound the watchdog waits; after it, it sends every chunk again with the next attempt
    now = timezone.now()
    assert runs.overdue(now=now) == []
    again = runs.overdue(now=now + datetime.timedelta(seconds=61))
    assert [(s.kind, s.number) for s in again] == [("chunk", 2)] * 3
    scoring = [runs.run_chunk(chunk_id=s.id, attempt=s.number) for s in again]
    assert scoring[:2] == [None, None] and scoring[2].kind == "score"
    cycle_score(cycle_id=cycle.pk, run=cycle.close_run)
    # then: the close finished once, and the late originals write nothing
    before = list(MemberMetrics.objects.filter(cycle=cycle).values_list("staff_id", "values"))
    assert [runs.run_chunk(chunk_id=s.id, attempt=s.number) for s in first] == [None, None, None]
    assert list(MemberMetrics.objects.filter(cycle=cycle).values_list("staff_id", "values")) == before
    cycle.refresh_from_db()
    assert cycle.state == CycleState.REVIEW and cycle.progress_done == 3
    assert results(cycle) == results(clean)
    assert list(CloseChunk.objects.filter(cycle=cycle).values_list("resends", flat=True)) == [1, 1, 1]


def test_a_chunk_that_never_reports_fails_the_close_after_its_resends(
    agent_template, small_chunks, settings, django_capture_on_commit_callbacks
):
    # given a close whose chunks are sent and never report
    make_population()
    cycle = start_without_sending("silent", django_capture_on_commit_callbacks)
    runs.claim_unsent(cycle_id=cycle.pk, run=cycle.close_run)
    now = timezone.now()
    # when the watchdog has sent them CLOSE_MAX_RESENDS times more
    for tick in range(1, settings.APPRAISAL["CLOSE_MAX_RESENDS"] + 2):
        runs.overdue(now=now + datetime.timedelta(seconds=61 * tick))
    # then the close failed, saying which chunk and what to do
    cycle.refresh_from_db()
    assert cycle.state == CycleState.FAILED
    assert "chunk 1 (1 members) did not report after 4 sends" in cycle.error and "retry the close" in cycle.error


def test_a_chunk_that_keeps_killing_its_worker_fails_the_close(
    agent_template, small_chunks, settings, django_capture_on_commit_callbacks
):
    # given a chunk the broker has handed out as often as the limit allows (each worker died in it)
    make_population()
    cycle = start_without_sending("deadly", django_capture_on_commit_callbacks)
    send = runs.claim_unsent(cycle_id=cycle.pk, run=cycle.close_run)[0]
    CloseChunk.objects.filter(pk=send.id).update(deliveries=settings.APPRAISAL["CLOSE_MAX_DELIVERIES"])
    # when it is delivered once more
    assert runs.run_chunk(chunk_id=send.id, attempt=send.number) is None
    # then the close failed with the reason, and the chunk wrote nothing
    cycle.refresh_from_db()
    assert cycle.state == CycleState.FAILED and "keeps stopping its worker" in cycle.error
    assert not MemberMetrics.objects.filter(cycle=cycle).exists()


def test_retry_refuses_a_close_that_is_on_time(agent_template, small_chunks, django_capture_on_commit_callbacks):
    make_population()
    cycle = start_without_sending("stuck", django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="running and on time"):
        cycle_close(cycle=cycle, retry=True)
    with pytest.raises(ValidationError, match="already closing"):
        cycle_close(cycle=cycle)


@pytest.mark.django_db(transaction=True)
def test_close_cycle_retry_restarts_a_stalled_close_as_a_new_run(agent_template, small_chunks):
    # given a close that went quiet an hour ago (its run's chunks never came back)
    make_population()
    cycle = cycle_create(name="stalled", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    AppraisalCycle.objects.filter(pk=cycle.pk).update(
        state=CycleState.CLOSING, close_run=1, closing_started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    cycle.refresh_from_db()
    runs.plan(cycle=cycle)
    # when
    call_command("close_cycle", "stalled", "--retry", "--wait", "--timeout", "60")
    # then: a new run finished, and the stalled run's chunks are gone
    cycle.refresh_from_db()
    assert cycle.state == CycleState.REVIEW and cycle.close_run == 2
    assert not CloseChunk.objects.filter(cycle=cycle, run=1).exists()
    assert CloseChunk.objects.filter(cycle=cycle, run=2, state=ChunkState.DONE).count() == 3


def test_hr_retries_a_failed_close_from_the_admin_and_other_roles_cannot(
    agent_template, client, django_capture_on_commit_callbacks
):
    # given a failed close
    make_population()
    cycle = cycle_create(name="broken", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    AppraisalCycle.objects.filter(pk=cycle.pk).update(state=CycleState.FAILED, error="chunk 1 did not report")
    url = "/admin/performance/appraisalcycle/"
    # when finance tries the action, nothing happens; when HR does, the close runs again
    client.force_login(UserFactory(username="fin-r", groups=["Finance"], is_staff=True))
    client.post(url, {"action": "retry_closes", "_selected_action": [cycle.pk]})
    assert AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.FAILED
    client.force_login(UserFactory(username="hr-r", groups=["HR"], is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "retry_closes", "_selected_action": [cycle.pk]}, follow=True)
    # then
    assert "Close of broken started again." in response.content.decode()
    assert AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.REVIEW


def test_the_admin_shows_a_stalled_close_and_how_long_since_its_progress(
    agent_template, small_chunks, client, django_capture_on_commit_callbacks
):
    make_population()
    cycle = start_without_sending("quiet", django_capture_on_commit_callbacks)
    AppraisalCycle.objects.filter(pk=cycle.pk).update(
        closing_started_at=timezone.now() - datetime.timedelta(minutes=12)
    )
    client.force_login(User.objects.create_superuser("root-r", "r@example.com", "pw-123456!"))
    page = client.get("/admin/performance/appraisalcycle/").content.decode()
    assert "stalled" in page and "0 / 3, last progress 12\xa0minutes ago" in page


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_close_cycle_without_a_broker_says_so_in_one_line_and_the_chunks_wait(agent_template, small_chunks):
    # given a cycle, and a broker that is not there
    make_population()
    cycle_create(name="nobroker", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "CLOSE_CHUNK_SIZE": "1",
    }
    # when
    proc = subprocess.run(
        [sys.executable, "manage.py", "close_cycle", "nobroker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then: one line; the close is recorded and its chunks wait for the watchdog
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert "message broker is not reachable" in lines[0] and "its 3 chunks wait" in lines[0]
    cycle = AppraisalCycle.objects.get(name="nobroker")
    assert cycle.state == CycleState.CLOSING and runs.waiting(cycle) == 3
    # and once the broker is back (here: tasks in-process), the watchdog sends them and the close finishes
    for send in runs.overdue():
        if send.kind == "chunk":
            runs.run_chunk(chunk_id=send.id, attempt=send.number)
    cycle_score(cycle_id=cycle.pk, run=cycle.close_run)
    assert AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.REVIEW


def test_close_cycle_refuses_an_unknown_login_and_changes_nothing(agent_template):
    cycle = cycle_create(name="who", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    with pytest.raises(CommandError, match="no login named ghost"):
        call_command("close_cycle", "who", "--user", "ghost")
    assert AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.OPEN
