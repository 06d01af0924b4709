"""People leave and change roles: logins and groups follow; a manager sees their reports' subtree only."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from performance.models import Staff, Team
from performance.org.selectors import visible_staff
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def groups(username):
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def org_file(tmp_path, *rows):
    path = tmp_path / "org.csv"
    path.write_text("employee_no,name,team,role,manager,active\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_a_staff_import_demotes_a_manager_and_deactivates_a_leaver(tmp_path):
    # given a manager and a report, imported
    call_command("import_data", "staff", org_file(tmp_path, "M1,王,T,manager,,true", "A1,李,T,agent,M1,true"))
    assert groups("M1") == {"Staff", "Manager"}
    # when the next file demotes the manager and the report leaves
    call_command("import_data", "staff", org_file(tmp_path, "M1,王,T,agent,,true", "A1,李,T,agent,M1,false"))
    # then the Manager group is gone and the leaver cannot log in
    assert groups("M1") == {"Staff"}
    assert not User.objects.get(username="A1").is_active
    assert [h.manager_id for h in Staff.objects.get(employee_no="A1").history.order_by("history_id")][-1] is not None


def test_admin_deactivation_and_role_changes_follow_to_the_login(client):
    hr = UserFactory(username="hr", groups=["HR"], is_staff=True)
    client.force_login(hr)
    member = StaffFactory(employee_no="A1", user=UserFactory(username="a1", groups=["Staff"]))
    # when HR makes them a manager in the change form
    client.post(
        f"/admin/performance/staff/{member.pk}/change/",
        {
            "employee_no": "A1",
            "name": "x",
            "team": member.team_id,
            "role": "manager",
            "active": "on",
            "user": member.user_id,
        },
    )
    assert groups("a1") == {"Staff", "Manager"}
    # when HR deactivates them with the list action
    client.post("/admin/performance/staff/", {"action": "deactivate", "_selected_action": [member.pk]})
    assert not User.objects.get(username="a1").is_active
    assert Staff.objects.get(pk=member.pk).history.first().history_user == hr


def test_a_manager_sees_their_reports_subtree_not_a_co_manager_or_their_boss_in_the_team():
    team = Team.objects.create(name="T")
    boss = StaffFactory(employee_no="B", role="manager", team=team)
    me = StaffFactory(
        employee_no="M", role="manager", team=team, manager=boss, user=UserFactory(username="m", groups=["Manager"])
    )
    peer = StaffFactory(employee_no="P", role="manager", team=team, manager=boss)
    report = StaffFactory(employee_no="R", team=team, manager=me)
    below = StaffFactory(employee_no="RR", team=team, manager=report)
    StaffFactory(employee_no="X", team=team, manager=peer)
    seen = set(visible_staff(viewer=me.user).values_list("employee_no", flat=True))
    assert seen == {"M", "R", "RR"}
    assert {boss.employee_no, peer.employee_no}.isdisjoint(seen) and below.pk
