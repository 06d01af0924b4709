"""Writes of the organisation: members created, updated and changed in bulk; logins unlocked."""

import logging

from axes.utils import reset as axes_reset
from django.contrib.auth.models import Group, User
from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from performance.common.audit import audited

from .models import Role, Staff, Team
from .selectors import employee_ids

STAFF_FIELDS = ["name", "email", "team", "role", "hired_on", "active"]

log = logging.getLogger(__name__)


def logins_unlock(*, staff, actor) -> int:
    """Lift the login throttle (django-axes) of these members' logins, from every address.

    Returns how many members' logins had failed attempts on record. The unlock is logged
    with who did it: django-axes keeps its attempts outside the audited models.
    """
    unlocked = 0
    for member in staff.select_related("user"):
        if member.user is not None and axes_reset(username=member.user.get_username()):
            unlocked += 1
            log.info("login %s unlocked by %s", member.user.get_username(), getattr(actor, "username", None))
    return unlocked


@transaction.atomic
def staff_update_many(*, staff, actor, **values) -> int:
    """Set ``values`` (active, team, …) on every member in ``staff``, audited per member."""
    members = list(staff)
    for member in members:
        for name, value in values.items():
            setattr(member, name, value)
    bulk_update_with_history(members, Staff, list(values), default_user=actor)
    return len(members)


@transaction.atomic
def staff_upsert_many(*, members: list[dict], actor=None) -> int:
    """Create or update members by employee_no, with their teams, logins and groups.

    ``members`` are checked already (``ingest.kinds.staff``): each dict has employee_no, name,
    email, team (a name; a new name creates the team), role, manager (an employee_no in the
    database or among ``members``, or None), hired_on and active. A new member gets a login
    named by their employee_no, without a usable password, in the Staff group (and Manager for
    managers). Returns how many members were new.
    """
    numbers = [m["employee_no"] for m in members]
    teams = {t.name: t for t in Team.objects.all()}
    for m in members:
        if m["team"] not in teams:
            teams[m["team"]] = audited(Team(name=m["team"]), actor)
            teams[m["team"]].save()
    existing = {s.employee_no: s for s in Staff.objects.filter(employee_no__in=numbers)}
    users = {u.username: u for u in User.objects.filter(username__in=numbers)}
    new_users = [
        User(username=m["employee_no"], email=m["email"])
        for m in members
        if m["employee_no"] not in users and m["employee_no"] not in existing
    ]
    for user in new_users:
        user.set_unusable_password()
    User.objects.bulk_create(new_users)
    users.update({u.username: u for u in User.objects.filter(username__in=[u.username for u in new_users])})
    to_create, to_update = [], []
    for m in members:
        values = {
            "name": m["name"],
            "email": m["email"],
            "team": teams[m["team"]],
            "role": m["role"],
            "hired_on": m["hired_on"],
            "active": m["active"],
        }
        member = existing.get(m["employee_no"])
        if member is None:
            to_create.append(Staff(employee_no=m["employee_no"], user=users.get(m["employee_no"]), **values))
        else:
            for name, value in values.items():
                setattr(member, name, value)
            to_update.append(member)
    if to_create:
        bulk_create_with_history(to_create, Staff, default_user=actor)
    if to_update:
        bulk_update_with_history(to_update, Staff, STAFF_FIELDS, default_user=actor)
    ids = employee_ids()
    managed = [
        Staff(pk=ids[m["employee_no"]], manager_id=ids.get(m["manager"]) if m["manager"] else None) for m in members
    ]
    Staff.objects.bulk_update(managed, ["manager"], batch_size=1000)
    groups = {g.name: g for g in Group.objects.filter(name__in=["Staff", "Manager"])}
    through = User.groups.through
    links = []
    for m in members:
        user = users.get(m["employee_no"])
        if user is None:
            continue
        links.append(through(user_id=user.pk, group_id=groups["Staff"].pk))
        if m["role"] == Role.MANAGER:
            links.append(through(user_id=user.pk, group_id=groups["Manager"].pk))
    through.objects.bulk_create(links, ignore_conflicts=True)
    return len(to_create)
