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
ROLE_GROUPS = {Role.MANAGER: "Manager"}  # groups that follow a member's role: added with it, removed without it
JOIN_GROUPS = {Role.INSPECTOR: "QA"}  # groups a member of the role joins (others may hold them too: never removed)


def logins_follow(*, members) -> None:
    """Each member's login follows the member: inactive when they leave, role groups as their role says.

    A member who leaves (``active`` false) cannot log in any more; a member whose role
    changes gains the groups of the new role and loses those of the old one (a demoted
    manager loses the Manager group, and with it their reports' results). Other groups (HR,
    Finance, QA) are not a staff role and are left as they are.
    """
    members = [m for m in members if m.user_id is not None]
    if not members:
        return
    User.objects.filter(pk__in=[m.user_id for m in members if m.active], is_active=False).update(is_active=True)
    User.objects.filter(pk__in=[m.user_id for m in members if not m.active], is_active=True).update(is_active=False)
    groups = {g.name: g.pk for g in Group.objects.filter(name__in=set(ROLE_GROUPS.values()))}
    through = User.groups.through
    for role, name in ROLE_GROUPS.items():
        if name not in groups:
            continue
        holders = [m.user_id for m in members if m.role == role]
        others = [m.user_id for m in members if m.role != role]
        through.objects.filter(group_id=groups[name], user_id__in=others).delete()
        through.objects.bulk_create(
            [through(user_id=uid, group_id=groups[name]) for uid in holders], ignore_conflicts=True
        )


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
    """Set ``values`` (active, team, role …) on every member in ``staff``, audited per member; logins follow."""
    members = list(staff)
    for member in members:
        for name, value in values.items():
            setattr(member, name, value)
    bulk_update_with_history(members, Staff, list(values), default_user=actor)
    logins_follow(members=members)
    return len(members)


@transaction.atomic
def staff_save(*, staff, actor) -> Staff:
    """Save one member as a form edited it (the admin's change form), audited; the login follows."""
    staff.full_clean()
    audited(staff, actor).save()
    logins_follow(members=[staff])
    return staff


@transaction.atomic
def staff_upsert_many(*, members: list[dict], actor=None, reason=None) -> int:
    """Create or update members by employee_no, with their teams, logins and groups.

    ``members`` are checked already (``ingest.kinds.staff``): each dict has employee_no, name,
    email, team (a name; a new name creates the team), role, manager (an employee_no in the
    database or among ``members``, or None), hired_on and active. A new member gets a login
    named by their employee_no, without a usable password, in the Staff group (and Manager for
    managers, QA for inspectors). Returns how many members were new.
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
        bulk_create_with_history(to_create, Staff, default_user=actor, default_change_reason=reason)
    if to_update:
        bulk_update_with_history(to_update, Staff, STAFF_FIELDS, default_user=actor, default_change_reason=reason)
    # managers may be in the same file: set them once every member exists, with history for those that changed
    stored = {s.employee_no: s for s in Staff.objects.filter(employee_no__in=numbers)}
    ids = {**employee_ids(), **{no: s.pk for no, s in stored.items()}}
    moved = []
    for m in members:
        member = stored[m["employee_no"]]
        manager_id = ids.get(m["manager"]) if m["manager"] else None
        if member.manager_id != manager_id:
            member.manager_id = manager_id
            moved.append(member)
    if moved:
        bulk_update_with_history(
            moved, Staff, ["manager"], batch_size=1000, default_user=actor, default_change_reason=reason
        )
    staff_group = Group.objects.filter(name="Staff").first()
    if staff_group is not None:
        through = User.groups.through
        through.objects.bulk_create(
            [through(user_id=s.user_id, group_id=staff_group.pk) for s in stored.values() if s.user_id],
            ignore_conflicts=True,
        )
    logins_follow(members=list(stored.values()))
    joins = {g.name: g.pk for g in Group.objects.filter(name__in=set(JOIN_GROUPS.values()))}
    User.groups.through.objects.bulk_create(
        [
            User.groups.through(user_id=s.user_id, group_id=joins[JOIN_GROUPS[s.role]])
            for s in stored.values()
            if s.user_id and JOIN_GROUPS.get(s.role) in joins
        ],
        ignore_conflicts=True,
    )
    return len(to_create)
