"""Who sees whom: the reads every page, export and admin list filters people by."""

from django.db.models import Q

from .models import Role, Staff, Team

SEE_EVERYONE = ("HR", "Finance")


def group_names(user) -> frozenset[str]:
    """The names of the login's groups, read once per request (kept on the user object)."""
    names = getattr(user, "group_names_cache", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True)) if user.pk else frozenset()
        user.group_names_cache = names
    return names


def in_groups(user, *groups) -> bool:
    """A superuser, or a member of one of ``groups``."""
    return user.is_superuser or bool(group_names(user) & set(groups))


def team_subtree_ids(*, team_id) -> list[int]:
    """The team and every team below it."""
    parents = dict(Team.objects.values_list("id", "parent_id"))
    out = []
    for tid in parents:
        cur = tid
        while cur is not None:
            if cur == team_id:
                out.append(tid)
                break
            cur = parents.get(cur)
    return out


def visible_staff(*, viewer):
    """Whom a login may see: HR/Finance/superusers everyone, managers their subtree, staff themselves."""
    if in_groups(viewer, *SEE_EVERYONE):
        return Staff.objects.all()
    me = getattr(viewer, "staff", None)
    if me is None:
        return Staff.objects.none()
    if me.role == Role.MANAGER or "Manager" in group_names(viewer):
        return Staff.objects.filter(Q(team_id__in=team_subtree_ids(team_id=me.team_id)) | Q(manager=me) | Q(pk=me.pk))
    return Staff.objects.filter(pk=me.pk)


def employee_ids() -> dict[str, int]:
    """employee_no → id of every member, for resolving references in a file."""
    return dict(Staff.objects.values_list("employee_no", "id"))
