import pytest
from django.apps import apps
from django.utils import translation

from config.celery import app
from performance.appraisal.definitions import template_load
from performance.defaults import install_defaults
from tests.factories import AGENT_TEMPLATE


@pytest.fixture(autouse=True)
def _celery_in_process(request, settings):
    """Tasks run in-process except in integration tests, which start a real worker."""

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
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _defaults_after_flush(request):
    """Transactional tests flush the database; put back what the data migration installs."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        install_defaults(apps)


@pytest.fixture
def agent_template(db):
    template, _ = template_load(data=AGENT_TEMPLATE)
    return template


@pytest.fixture(autouse=True)
def _english():
    """A request may leave another language active in this thread; every test starts in English."""

    translation.activate("en")
    yield
    translation.activate("en")
