"""The login's own staff record, for the pages about oneself, and the site's menu.

Who may open a page is ``common.authority.door``; the menu (``nav``) asks the same matrix the
views' doors ask (``can``), so a menu never offers a page that answers 403.
"""

from django.http import Http404
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from performance.common.authority import can

from .models import Staff

MENU = {  # menu entry → the action its page's door checks
    "mine": "performance.view_own_results",
    "pay": "commission.view_own_statements",
    "team": "performance.view_team_page",
    "qa": "performance.inspect",
    "qa_dashboard": "performance.view_qa_dashboard",
    "hr": "performance.view_hr_dashboard",
}


def nav(request) -> dict:
    """Context processor: the menu entries this login may open (the same checks as the views),
    worked out only when a page shows the menu (the admin's pages do not)."""

    def entries():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return {}
        return {**{entry: can(user, perm) for entry, perm in MENU.items()}, "admin": user.is_staff}

    return {"nav": SimpleLazyObject(entries)}


def my_staff(request) -> Staff:
    """The staff record of the login; 404 when it has none."""
    me = getattr(request.user, "staff", None)
    if me is None:
        raise Http404(_("No staff record is linked to this login."))
    return me
