"""Every bad id or bad filter value in a page or admin URL answers 400, 404 or a redirect, never 500.

Before, ``?cycle__id__exact=-1`` on the payout list and a missing cycle id on the admin's
results, progress and close views answered 500.
"""

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client

from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

BAD_IDS = ["abc", "-1", "0", "999999", "99999999999999999999", "1.5", "%00", "1e999999999"]
BAD_VALUES = ["abc", "-1", "99999999999999999999", "%00", "2026-13-45"]
ANSWERS = {200, 302, 400, 403, 404, 405}


@pytest.fixture
def root():
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def filter_params(model_admin) -> list[str]:
    """The query parameters of a changelist's filters, as its filter links write them."""
    params = []
    for spec in model_admin.list_filter:
        name = spec if isinstance(spec, str) else spec[0] if isinstance(spec, tuple) else None
        if name is None:
            continue
        field = model_admin.model
        for part in name.split("__"):
            field = field._meta.get_field(part)
            field = field.related_model if field.is_relation and part != name.split("__")[-1] else field
        if isinstance(field, models.Field) and field.is_relation:
            params.append(f"{name}__{field.target_field.name}__exact")
            params.append(f"{name}__isnull")
        else:
            params.append(f"{name}__exact")
    return params + ["p", "o", "q", "e", "all"]


def changelists():
    return [
        (f"/admin/{model._meta.app_label}/{model._meta.model_name}/", model_admin)
        for model, model_admin in admin.site._registry.items()
    ]


def test_every_admin_changelist_filter_refuses_bad_values_without_a_500(root):
    # given every registered admin list and the parameters of its filters
    answers = {}
    for url, model_admin in changelists():
        for param in filter_params(model_admin):
            for value in BAD_VALUES:
                # when a bad value is given
                answers[f"{url}?{param}={value}"] = root.get(url, {param: value}).status_code
    # then none answers 500
    assert {u: s for u, s in answers.items() if s not in ANSWERS} == {}


def test_every_admin_object_url_refuses_bad_ids_without_a_500(root):
    answers = {}
    for url, _model_admin in changelists():
        for bad in BAD_IDS:
            for tail in ("change/", "history/", "delete/"):
                answers[f"{url}{bad}/{tail}"] = root.get(f"{url}{bad}/{tail}").status_code
    assert {u: s for u, s in answers.items() if s not in ANSWERS} == {}


@pytest.mark.parametrize(
    "path",
    [
        "/admin/performance/appraisalcycle/999999/close/",
        "/admin/performance/appraisalcycle/999999/progress/",
        "/admin/performance/appraisalcycle/999999/results.csv",
        "/admin/performance/appraisalcycle/999999/results.xlsx",
        "/admin/performance/appraisalcycle/99999999999999999999/results.csv",
    ],
)
def test_the_admin_cycle_views_answer_404_for_a_missing_cycle(root, path):
    assert root.get(path).status_code == 404
    assert root.post(path).status_code in (404, 405)


@pytest.mark.parametrize(
    "path",
    [
        "/appraisals/999999/",
        "/appraisals/99999999999999999999/",
        "/team/999999/rate/999999/",
        "/commission/statements/999999/",
        "/commission/statements/999999.csv",
        "/commission/budget/999999/",
        "/commission/budget/99999999999999999999/",
    ],
)
def test_site_pages_answer_404_for_missing_ids(root, path):
    StaffFactory(employee_no="R1")  # a member exists, so the rate form's lookups run
    assert root.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/team/?cycle=abc",
        "/team/?cycle=-1",
        "/team/?cycle=99999999999999999999",
        "/team/?page=abc",
        "/team/?order=abc",
        "/team/?team=abc&grade=%00",
        "/hr/?cycle=abc",
        "/qa/dashboard/?start=abc&end=2026-13-45",
        "/qa/dashboard/?start=9999-12-31&end=0001-01-01",
    ],
)
def test_site_page_filters_refuse_bad_values_without_a_500(root, path):
    assert root.get(path).status_code in ANSWERS


def test_a_dispute_of_a_missing_inspection_answers_404(client):
    agent = StaffFactory(employee_no="A1")
    client.raise_request_exception = False
    client.force_login(agent.user)
    assert client.post("/qa/inspections/999999/dispute/", {"reason": "x"}).status_code == 404
