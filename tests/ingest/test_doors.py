"""One schema per import kind, two doors: the admin's import runs the same kind as import_data."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from performance.common.admin import ImportDoor
from performance.common.import_doors import resource_class
from performance.ingest.kinds import KINDS
from performance.models import Staff, Team
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ORG_FILE = (
    "employee_no,name,email,team,role,manager,hired_on,active\n"
    "M1,王经理,m1@example.com,新团队,manager,,2024-01-01,true\n"
    "A1,李客服,a1@example.com,新团队,agent,M1,2025-03-01,true\n"
).encode()


def test_every_kind_has_an_admin_door_with_the_kinds_own_columns():
    # given every import kind, and the model admins that open an import door
    doors = {ma.import_kind: ma for ma in admin.site._registry.values() if isinstance(ma, ImportDoor)}
    # then each kind has exactly one door, and the door's columns are the kind's schema
    assert set(doors) == set(KINDS)
    for name, kind in KINDS.items():
        resource = resource_class(name)()
        assert [f.column_name for f in resource.get_import_fields()] == kind.schema.names
        assert doors[name].model is kind.model


def _admin_import(client, model, body, name="org.csv"):
    response = client.post(
        f"/admin/performance/{model}/import/",
        {"import_file": SimpleUploadedFile(name, body, content_type="text/csv"), "format": "0", "resource": "0"},
    )
    assert response.status_code == 200
    form = response.context.get("confirm_form")
    assert form is not None, response.content.decode()
    return client.post(f"/admin/performance/{model}/process_import/", form.initial, follow=True)


def test_the_admin_staff_import_creates_teams_managers_in_the_same_file_logins_and_groups(client):
    # given HR in the admin and an organisation file with a new team and a manager with a report
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    # when
    _admin_import(client, "staff", ORG_FILE)
    # then: the same as import_data staff
    assert Team.objects.filter(name="新团队").exists()
    report = Staff.objects.select_related("manager", "user").get(employee_no="A1")
    assert report.manager.employee_no == "M1"
    assert set(report.user.groups.values_list("name", flat=True)) == {"Staff"}
    assert set(User.objects.get(username="M1").groups.values_list("name", flat=True)) == {"Staff", "Manager"}


def test_both_doors_write_the_same_rows(client, tmp_path):
    # given the same file through the command, and through the admin on a fresh copy of the rows
    path = tmp_path / "org.csv"
    path.write_bytes(ORG_FILE)
    call_command("import_data", "staff", str(path))
    by_command = list(
        Staff.objects.order_by("employee_no").values_list(
            "employee_no", "name", "email", "team__name", "role", "manager__employee_no", "hired_on", "active"
        )
    )
    Staff.objects.update(manager=None)
    Staff.objects.all().delete()
    User.objects.filter(username__in=["M1", "A1"]).delete()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    # when
    _admin_import(client, "staff", ORG_FILE)
    # then
    by_admin = list(
        Staff.objects.order_by("employee_no").values_list(
            "employee_no", "name", "email", "team__name", "role", "manager__employee_no", "hired_on", "active"
        )
    )
    assert by_admin == by_command


def test_an_admin_export_reads_back_through_the_import(client):
    # given members imported, then exported from the admin with the kind's columns
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    _admin_import(client, "staff", ORG_FILE)
    exported = resource_class("staff")().export(
        queryset=Staff.objects.filter(employee_no__in=["M1", "A1"]).order_by("employee_no")
    )
    # then the header is the kind's, and the rows are what was imported
    assert exported.headers == KINDS["staff"].schema.names
    assert [list(r) for r in exported] == [
        ["A1", "李客服", "a1@example.com", "新团队", "agent", "M1", "2025-03-01", "true"],
        ["M1", "王经理", "m1@example.com", "新团队", "manager", "", "2024-01-01", "true"],
    ]
