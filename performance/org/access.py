"""The login's own staff record, for the pages about oneself (who may open a page: ``common.authority.door``)."""

from django.http import Http404
from django.utils.translation import gettext as _

from .models import Staff


def my_staff(request) -> Staff:
    """The staff record of the login; 404 when it has none."""
    me = getattr(request.user, "staff", None)
    if me is None:
        raise Http404(_("No staff record is linked to this login."))
    return me
