import pytest

from performance.appraisal.definitions import template_load

AGENT_TEMPLATE = {
    "code": "cs-agent",
    "name": "Customer service agent",
    "role": "agent",
    "sections": [
        {"code": "kpi", "kind": "kpi", "weight": 80, "indicators": [
            {"code": "frt", "metric": "first_response_rate_2m", "weight": 50,
             "scoring": {"rule": "linear", "floor": 0.5, "target": 0.85}},
            {"code": "csat", "metric": "satisfaction_rate", "weight": 50,
             "scoring": {"rule": "bands", "bands": [[0.9, 100], [0.8, 80], [0.0, 40]]}},
        ]},
        {"code": "kci", "kind": "kci", "weight": 20, "indicators": [
            {"code": "attitude", "weight": 100, "scoring": {"rule": "rating", "scale": 5}},
        ]},
    ],
    "grading": {"method": "thresholds", "grades": [[90, "excellent"], [75, "good"], [0, "needs_improvement"]]},
    "eligibility": {"min_tickets": 5},
}

PLAN = {
    "code": "cloud-sales",
    "name": "Cloud server sales",
    "roles": ["sales", "presales"],
    "period": "monthly",
    "rate_bounds": [0.05, 0.20],
    "rates": {"default": 0.05, "cloud_server": 0.10, "support_plan": 0.20},
    "high_value": {"min_amount": 50000, "extra_rate": 0.02},
    "modifiers": {
        "satisfaction_rate": [[0.90, 1.10], [0.80, 1.00], [0.0, 0.80]],
        "retention_rate": [[0.85, 1.10], [0.60, 1.00], [0.0, 0.90]],
        "grade": {"excellent": 1.20, "good": 1.00, "needs_improvement": 0.80},
    },
    "clawback_days": 90,
    "cap": 30000,
}


@pytest.fixture(autouse=True)
def _celery_in_process(request, settings):
    """Tasks run in-process except in integration tests, which start a real worker."""
    from config.celery import app

    eager = request.node.get_closest_marker("integration") is None
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    before = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _site_settings(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture(autouse=True)
def _defaults_after_flush(request):
    """Transactional tests flush the database; put back what the data migration installs."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        from django.apps import apps

        from performance.defaults import install_defaults

        install_defaults(apps)


@pytest.fixture
def agent_template(db):
    template, _ = template_load(data=AGENT_TEMPLATE)
    return template


@pytest.fixture(autouse=True)
def _english():
    """A request may leave another language active in this thread; every test starts in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")
