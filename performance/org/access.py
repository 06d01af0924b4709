"""Who may open a page: the checks every view makes before it reads anything.

``PAGES`` names each page's check once; the views call ``require_page`` and the site's menu
(``nav``) asks ``may_open`` the same question, so a menu never offers a page that answers 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from .models import Staff
from .selectors import in_groups

PAGES = {
    "team": ("Manager", "HR"),
    "hr": ("HR",),
    "qa": ("QA",),
    "qa_dashboard": ("QA", "HR"),
    "budget": ("Finance",),
}


def may_open(user, page: str) -> bool:
    """The check ``page``'s view makes, for the menu and the landing page."""
    return user.is_authenticated and in_groups(user, *PAGES[page])


def require_page(request, page: str) -> None:
    """403 unless the login may open ``page``."""
    if not may_open(request.user, page):
        raise PermissionDenied


def require_groups(request, *groups) -> None:
    """403 unless the login is a superuser or in one of ``groups``."""
    if not in_groups(request.user, *groups):
        raise PermissionDenied


def nav(request) -> dict:
    """Context processor: the menu entries this login may open (the same checks as the views),
    worked out only when a page shows the menu (the admin's pages do not)."""

    def entries():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return {}
        return {
            "mine": getattr(user, "staff", None) is not None,
            **{page: may_open(user, page) for page in PAGES},
            "admin": user.is_staff,
        }

    return {"nav": SimpleLazyObject(entries)}


def my_staff(request) -> Staff:
    """The staff record of the login; 404 when it has none."""
    me = getattr(request.user, "staff", None)
    if me is None:
        raise Http404(_("No staff record is linked to this login."))
    return me
