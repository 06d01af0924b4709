import datetime
import logging
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from performance.appraisal.models import AppraisalCycle
from performance.common.failures import explain
from performance.ingest.schema import ImportFailed

log = logging.getLogger("performance.commands")


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


def cycle_named(name: str):
    """The cycle a command names: it must exist."""
    cycle = AppraisalCycle.objects.filter(name=name).first()
    if cycle is None:
        raise CommandError(f"no cycle named {name}")
    return cycle


class ProductCommand(BaseCommand):
    """Every command of the product: a lost database, broker, disk or file is one clear line.

    The line says what failed and what to do; the traceback goes to the log (the file named by
    the COMMAND_LOG_FILE setting), and ``--traceback`` shows it on the terminal, as in Django.
    Run from a terminal, whatever the code logs on the way goes to that file too, so the
    terminal shows the command's own output only.
    """

    def execute(self, *args, **options):
        with _logs_to_file(getattr(self, "_called_from_command_line", False) and not options.get("traceback")):
            return self._execute(*args, **options)

    def _execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except CommandError:
            raise
        except Exception as exc:
            line = explain(exc)
            if line is None or options.get("traceback"):
                raise
            log.error("%s failed: %s", type(self).__module__.rsplit(".", 1)[-1], line, exc_info=exc)
            where = settings.COMMAND_LOG_FILE
            raise CommandError(f"{line}." + (f" (details in {where})" if where else "")) from None


@contextmanager
def _logs_to_file(redirect: bool):
    """Send the root logger's records to the command log instead of the terminal, while a command runs."""
    root = logging.getLogger()
    if not redirect:
        yield
        return
    saved = root.handlers[:]
    root.handlers = logging.getLogger("performance.commands").handlers[:]
    try:
        yield
    finally:
        root.handlers = saved
