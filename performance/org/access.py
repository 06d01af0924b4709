"""Who may open a page: the checks every view makes before it reads anything."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Staff
from .selectors import in_groups


def require_groups(request, *groups) -> None:
    """403 unless the login is a superuser or in one of ``groups``."""
    if not in_groups(request.user, *groups):
        raise PermissionDenied


def my_staff(request) -> Staff:
    """The staff record of the login; 404 when it has none."""
    me = getattr(request.user, "staff", None)
    if me is None:
        raise Http404(_("No staff record is linked to this login."))
    return me
