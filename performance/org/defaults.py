"""The groups a new database starts with: one per role of the permission matrix.

What each role may do is the matrix in ``config/policy.py`` (django-rules), not Django's
permission rows: the groups carry no permissions (``install_groups`` clears any left from
before the matrix), and the login backend (``config.auth.LoginBackend``) grants none.
"""

ROLE_GROUPS = ("HR", "Finance", "Manager", "QA", "Staff")


def install_groups(apps) -> None:
    """Idempotent: the role groups exist, without permission rows."""
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.clear()
