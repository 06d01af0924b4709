"""Who sees whom: the reads every page, export and admin list filters people by."""

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from .models import Role, Staff

SEE_EVERYONE = ("HR", "Finance")


def in_groups(user, *groups) -> bool:
    """A superuser, or a member of one of ``groups`` (the login's group names are read once per login object)."""
    if user.is_superuser:
        return True
    names = getattr(user, "_group_names_cache", None)  # the name django-rules caches them under too
    if names is None:
        names = user._group_names_cache = set(user.groups.values_list("name", flat=True))
    return bool(names & set(groups))


def report_ids(*, manager_id) -> set[int]:
    """Everyone below a member through the manager links (their reports, their reports' reports …).

    Not the member themself, and not whoever shares their team: a co-manager or the member's
    own boss in the same team is not a report. One query for the whole organisation.
    """
    below: dict[int, list[int]] = {}
    for sid, boss in Staff.objects.filter(manager__isnull=False).values_list("id", "manager_id"):
        below.setdefault(boss, []).append(sid)
    out, todo = set(), [manager_id]
    while todo:
        for sid in below.get(todo.pop(), ()):
            if sid not in out and sid != manager_id:
                out.add(sid)
                todo.append(sid)
    return out


def visible_staff(*, viewer):
    """Whom a login may see: HR/Finance/superusers everyone, managers themselves and their reports'
    subtree (``report_ids``), everyone else themselves."""
    if in_groups(viewer, *SEE_EVERYONE):
        return Staff.objects.all()
    me = getattr(viewer, "staff", None)
    if me is None:
        return Staff.objects.none()
    if me.role == Role.MANAGER or in_groups(viewer, "Manager"):
        return Staff.objects.filter(Q(pk__in=ids_subquery(report_ids(manager_id=me.pk))) | Q(pk=me.pk))
    return Staff.objects.filter(pk=me.pk)


def ids_subquery(ids):
    """A set of ids for a filter. On PostgreSQL one array parameter (``unnest``), not one
    parameter per id: a manager's page filters several queries by the same subtree, and
    turning 1,500 ids into placeholders and back cost each query more than the query."""
    if connection.vendor != "postgresql":
        return ids
    return RawSQL("SELECT unnest(%s::bigint[])", (sorted(ids),))


def employee_ids() -> dict[str, int]:
    """employee_no → id of every member, for resolving references in a file."""
    return dict(Staff.objects.values_list("employee_no", "id"))
