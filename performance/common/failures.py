"""Failures of the machinery around the product, each told in one line that says what to do.

A command or a page that loses its database, its broker, its disk or a file does not show a
traceback: it says what failed and what to do, and the traceback goes to the log.
"""

import errno
import logging

import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

log = logging.getLogger("performance.failures")


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def explain(exc: BaseException) -> str | None:
    """One line for a failure of the database, the broker, the disk or a file; None for anything else.

    >>> explain(FileNotFoundError(2, "No such file or directory", "plan.yaml"))
    'the file plan.yaml does not exist (it may have been moved or deleted): check the path and run again'
    >>> explain(ValueError("a bug")) is None
    True
    """
    if isinstance(exc, BrokerError) or _is_broker_connection(exc):
        return _(
            "the message broker is not reachable (%(e)s): start Redis or RabbitMQ, or fix CELERY_BROKER_URL, "
            "then run again"
        ) % {"e": _first_line(exc)}
    if isinstance(exc, OperationalError | InterfaceError | psycopg.OperationalError | psycopg.InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        return _(
            "the database is not reachable or the connection was lost (%(e)s); nothing was written: check that "
            "PostgreSQL is running and DATABASE_URL is right, then run again"
        ) % {"e": _first_line(exc)}
    if isinstance(exc, FileNotFoundError):
        return _("the file %(f)s does not exist (it may have been moved or deleted): check the path and run again") % {
            "f": exc.filename or _first_line(exc)
        }
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _("the disk is full while writing %(f)s: free some space, then run again") % {
            "f": exc.filename or _("the output")
        }
    if isinstance(exc, PermissionError):
        return _("no permission to read or write %(f)s: check the path's owner and mode, then run again") % {
            "f": exc.filename or _first_line(exc)
        }
    return None


def _is_broker_connection(exc) -> bool:
    """redis-py and amqp raise their own connection errors when kombu does not wrap them."""
    module = type(exc).__module__ or ""
    return module.startswith(("redis", "amqp", "kombu")) and "connection" in type(exc).__name__.lower()
