"""Who may do what: the one question every door asks, answered by the permission matrix.

The matrix itself (roles × actions, as data) is ``config/policy.py``, which registers one
``rules`` permission per action when the project starts; this module is how views, the
admin, management commands and services ask it, without importing it.

``can`` asks ``rules`` directly rather than ``user.has_perm``: Django answers ``has_perm``
with True for every superuser before any backend is asked, and the matrix holds superusers
to the locks and to separation of duties like everyone else. ``user.has_perm(perm, obj)``
still works for every other login (``rules.permissions.ObjectPermissionBackend``).

Object-level answers: a rule that grants an action on some objects only (a member's own
payout, a manager's reports) answers False when asked without an object; a condition that
refuses an action on some objects (a locked row, one's own payout) does not refuse when
asked without an object. So "may Finance approve payouts?" is yes, "may Finance approve
this payout?" is no when it is their own.
"""

from functools import wraps

import rules
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

EXPLAINERS = []  # fn(user, perm, obj) -> reasons a refusal names; the matrix adds its own (config.policy)

PUBLIC = "public"  # a door anyone may open (login, health check)
LOGIN = "login"  # a door any logged-in user may open (where a login lands)


def perm_name(opts, verb: str) -> str:
    """``app_label.verb_model`` for a model's ``_meta``, e.g. ``performance.close_appraisalcycle``."""
    return f"{opts.app_label}.{verb}_{opts.model_name}"


def can(user, perm: str, obj=None) -> bool:
    """Whether ``user`` may do ``perm`` (on ``obj``). A rule the matrix lacks answers no."""
    if user is None or not getattr(user, "is_active", False) or not getattr(user, "is_authenticated", False):
        return False
    return rules.has_perm(perm, user, obj)


class NotAllowed(PermissionDenied):
    """Refused by the permission matrix; ``str()`` says who was refused what."""


def require(user, perm: str, obj=None) -> None:
    """Raise ``NotAllowed`` unless ``user`` may do ``perm`` (on ``obj``).

    ``user`` None is the system acting on its own (the beat tick, seeding, the operator at the
    shell running a command without ``--user``), as services take ``actor=None``; every door
    a person opens passes their login.
    """
    if user is None:
        return
    if not can(user, perm, obj):
        reasons = [reason for explain in EXPLAINERS for reason in explain(user, perm, obj)]
        raise NotAllowed(
            _("%(user)s may not %(action)s%(what)s%(why)s.")
            % {
                "user": getattr(user, "username", None) or _("this login"),
                "action": describe(perm),
                "what": f" ({obj})" if obj is not None else "",
                "why": f": {'; '.join(str(r) for r in reasons)}" if reasons else "",
            }
        )


def describe(perm: str) -> str:
    """An action in words for messages: ``commission.approve_payout`` → "approve payout"."""
    verb, _sep, model = perm.partition(".")[2].partition("_")
    return f"{verb} {model}".strip()


def door(perm: str, *, obj: tuple[str, type] | None = None):
    """Declare a view's rule and enforce it.

    ``perm`` is a matrix action (or ``PUBLIC`` / ``LOGIN``). Without ``obj``, a login that
    may not do it gets 403 (anonymous users go to the login page). With ``obj = (kwarg,
    Model)``, the object the URL names is checked, and one the login may not see answers 404
    as if it did not exist. The rule is kept on the view (``view.door``) so the test that
    walks every URL can compare what the view does with the matrix.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if perm != PUBLIC:
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                if perm != LOGIN and obj is None and not can(request.user, perm):
                    raise PermissionDenied
                if obj is not None:
                    kwarg, model = obj
                    target = get_object_or_404(model, pk=kwargs[kwarg])
                    if not can(request.user, perm, target):
                        raise Http404
            return view(request, *args, **kwargs)

        wrapper.door = (perm, obj)
        return wrapper

    return decorate
