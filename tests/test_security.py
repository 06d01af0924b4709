"""Hostile clients: login throttling, safe settings, error reports without secrets, the CSP header.

Before, passwords could be guessed without limit on /login/ and /admin/login/; DEBUG defaulted
to true with a public SECRET_KEY fallback, and the debug page showed CELERY_BROKER_URL with
its password.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.views.debug import ExceptionReporter

from config.security import DEVELOPMENT_SECRET_KEY, SecretsExceptionReporter, SecretsReporterFilter
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def guess(client, path, username, password="wrong", times=1):
    return [
        client.post(path, {"username": username, "password": password}, REMOTE_ADDR="10.0.0.7").status_code
        for _ in range(times)
    ]


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_a_login_is_locked_after_the_failure_limit_on_both_login_pages(settings, path):
    # given a staff member with a real password, and a limit of 5 failures
    settings.AXES_FAILURE_LIMIT = 5
    user = UserFactory(username="victim", is_staff=True)
    user.set_password("right-password-123")
    user.save()
    client = Client()
    # when someone guesses five times
    answers = guess(client, path, "victim", times=5)
    # then the fifth failure locks the login from that address, even with the right password
    assert answers[:4] == [200] * 4 and answers[4] == 429
    response = client.post(path, {"username": "victim", "password": "right-password-123"}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 429 and "Too many failed logins" in response.content.decode()
    # while the same login from another address is not locked (per login and address)
    other = Client().post(path, {"username": "victim", "password": "right-password-123"}, REMOTE_ADDR="10.0.0.8")
    assert other.status_code == 302


def test_hr_unlocks_a_locked_login_from_the_staff_admin(settings, client):
    # given a member whose login was locked by failed guesses
    settings.AXES_FAILURE_LIMIT = 3
    member = StaffFactory(employee_no="A1", user=UserFactory(username="agent1"))
    member.user.set_password("right-password-123")
    member.user.save()
    guess(Client(), "/login/", "agent1", times=3)
    locked = Client().post("/login/", {"username": "agent1", "password": "right-password-123"}, REMOTE_ADDR="10.0.0.7")
    assert locked.status_code == 429
    # when HR runs "Unlock logins" on the member
    client.force_login(UserFactory(username="hr1", groups=["HR"], is_staff=True))
    response = client.post(
        "/admin/performance/staff/", {"action": "unlock_logins", "_selected_action": [member.pk]}, follow=True
    )
    # then the login works again
    assert "1 logins unlocked." in response.content.decode()
    again = Client().post("/login/", {"username": "agent1", "password": "right-password-123"}, REMOTE_ADDR="10.0.0.7")
    assert again.status_code == 302


def run_settings(env: dict) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with exactly this environment."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**keep, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"DEBUG": "false"},
        {"DEBUG": "false", "SECRET_KEY": DEVELOPMENT_SECRET_KEY},
        {"SECRET_KEY": DEVELOPMENT_SECRET_KEY},  # a deployment's key: DEBUG then defaults to off
    ],
)
def test_the_site_refuses_to_start_without_debug_and_a_secret_key(env):
    result = run_settings(env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a secret value when DEBUG is false" in result.stderr


def test_a_deployment_that_forgets_debug_false_runs_without_debug():
    assert run_settings({"SECRET_KEY": "a-real-secret-" + "x" * 40}).stdout.strip() == "False"
    assert run_settings({}).stdout.strip() == "True"  # a bare checkout (make run, tests) is a development site


def test_error_reports_hide_the_broker_url_and_any_url_password(settings):
    # given a broker URL with a password in the settings and the environment, and an error naming it
    # (the password is built at run time: the report also shows this test's source lines)
    secret = "".join(["s3cret", "-pass"])
    settings.CELERY_BROKER_URL = f"redis://:{secret}@redis.internal:6379/0"
    settings.CELERY_RESULT_BACKEND = f"redis://:{secret}@redis.internal:6379/0"
    settings.SOME_SERVICE = f"https://user:{secret}@api.example.com/"
    request = RequestFactory().get("/", HTTP_X_BROKER=f"redis://:{secret}@redis.internal:6379/0")
    request.META["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    try:
        raise ConnectionError(f"Error connecting to redis://:{secret}@redis.internal:6379/0")
    except ConnectionError as exc:
        reporter = SecretsExceptionReporter(request, type(exc), exc, exc.__traceback__)
    # when the debug page and the report mail are built
    page, text = reporter.get_traceback_html(), reporter.get_traceback_text()
    # then the password appears nowhere
    assert secret not in page and secret not in text
    assert "redis.internal" in text  # the error is still readable
    assert SecretsReporterFilter().get_safe_settings()["CELERY_BROKER_URL"] == "********************"
    assert issubclass(SecretsExceptionReporter, ExceptionReporter)


def test_pages_carry_a_content_security_policy_without_inline_script(client):
    policy = client.get("/login/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
