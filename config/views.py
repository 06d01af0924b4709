"""Site-wide views: where a login lands, and the health check for the load balancer."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect

from config.celery import app
from performance.common.authority import LOGIN, PUBLIC, door
from performance.org.selectors import in_groups


@door(PUBLIC)
def healthz(request):
    """Database and broker reachable: 200, else 503 with what failed."""
    checks = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"error: {exc}"
    if settings.CELERY_BROKER_URL:
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"error: {exc}"
    else:
        checks["broker"] = "in-process"
    ok = all(v in ("ok", "in-process") for v in checks.values())
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)


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
