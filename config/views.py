"""Site-wide views: where a login lands, and the health check for the load balancer."""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect

from config.celery import app
from config.security import without_url_passwords
from performance.common.authority import LOGIN, PUBLIC, door
from performance.org.selectors import in_groups

log = logging.getLogger(__name__)


@door(PUBLIC)
def healthz(request):
    """Database and broker reachable: 200 ``{"status": "ok"}``, else 503 ``{"status": "error"}``.

    Anyone may ask, so the answer is the status only; what failed, and why, goes to the log,
    and a logged-in superuser sees each check as well.
    """
    checks = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is "not healthy"; the log has the reason
        log.error("healthz: the database does not answer: %s", without_url_passwords(str(exc)))
        checks["database"] = "error"
    if settings.CELERY_BROKER_URL:
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            log.error("healthz: the broker does not answer: %s", without_url_passwords(str(exc)))
            checks["broker"] = "error"
    else:
        checks["broker"] = "in-process"
    ok = all(v in ("ok", "in-process") for v in checks.values())
    body = {"status": "ok" if ok else "error"}
    if getattr(request, "user", None) is not None and request.user.is_active and request.user.is_superuser:
        body.update(checks)
    return JsonResponse(body, status=200 if ok else 503)


@door(LOGIN)
def home(request):
    """Each login lands where its work is."""
    user = request.user
    if in_groups(user, "HR"):
        return redirect("hr-dashboard")
    if in_groups(user, "Finance"):
        return redirect("admin:commission_payout_changelist")
    if in_groups(user, "QA"):
        return redirect("qa-queue")
    if in_groups(user, "Manager"):
        return redirect("team")
    return redirect("my-results")
