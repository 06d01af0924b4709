import datetime
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from performance.ingest.schema import ImportFailed


def iso_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


@contextmanager
def clear_errors():
    """Turn domain errors into CommandError: a clear message and a non-zero exit."""
    try:
        yield
    except ImportFailed as exc:
        lines = [str(e) for e in exc.errors]
        more = exc.total - len(exc.errors)
        if more > 0:
            lines.append(f"… and {more} more errors")
        raise CommandError("nothing was imported:\n" + "\n".join(lines)) from None
    except ValidationError as exc:
        raise CommandError("\n".join(exc.messages)) from None
    except PermissionDenied as exc:
        raise CommandError(f"refused: {exc}") from None


def acting_login(username: str):
    """The login a workflow command acts as (``--user``): it must exist and be active."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no login named {username}")
    if not user.is_active:
        raise CommandError(f"the login {username} is not active")
    return user
