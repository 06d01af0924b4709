"""Who did it: the one way services name the acting login in the audit trail."""


def audited(obj, actor, reason: str | None = None):
    """Tell django-simple-history which login (a ``User``, or None for the system) saves ``obj``, and why.

    Outside a request simple-history cannot know the user; services pass it here before
    ``save()``. Returns ``obj`` so a call reads ``audited(cycle, actor).save()``.
    """
    obj._history_user = actor
    if reason:
        obj._change_reason = reason
    return obj
