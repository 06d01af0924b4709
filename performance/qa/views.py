import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from performance.common.authority import door
from performance.common.formatting import score_display
from performance.common.numbers import bounded_decimal
from performance.org.access import my_staff

from . import selectors, services
from .models import CalibrationRound, Inspection
from .services import SCORE_DIGITS, SCORE_PLACES


@door("performance.inspect")
def qa_queue(request):
    """An inspector's queue: the next ticket, its facts and the rubric; save and next."""
    me = my_staff(request)
    pending = selectors.inspection_queue(inspector=me)
    errors = []
    calibration = selectors.calibration_pending(inspector=me)
    if calibration:
        rnd, ticket = calibration[0]
        items = list(rnd.scorecard.items.all())
        if request.method == "POST" and request.POST.get("calibration") == f"{rnd.pk}-{ticket.pk}":
            try:
                scores = {i.pk: _item_score(request, i) for i in items}
                services.calibration_score(round=rnd, ticket=ticket, scores=scores, actor=request.user)
                messages.success(request, _("Calibration score for %(t)s saved.") % {"t": ticket.external_id})
                return redirect("qa-queue")
            except (ValidationError, ArithmeticError) as exc:
                errors = getattr(exc, "messages", [_("Enter a number.")])
        return render(
            request,
            "performance/qa_queue.html",
            {
                "calibration": rnd,
                "ticket": ticket,
                "items": items,
                "errors": errors,
                "remaining": len(calibration) + pending.count(),
            },
        )
    inspection = pending.first()
    if request.method == "POST" and inspection is not None and request.POST.get("replace") == str(inspection.pk):
        try:
            new = services.inspection_replace(
                inspection=inspection, reason=request.POST.get("replace_reason", ""), actor=request.user
            )
            messages.success(
                request,
                _("%(old)s replaced by %(new)s.")
                % {"old": inspection.ticket.external_id, "new": new.ticket.external_id if new else "—"},
            )
            return redirect("qa-queue")
        except ValidationError as exc:
            errors = exc.messages
    elif request.method == "POST" and inspection is not None and str(inspection.pk) == request.POST.get("inspection"):
        try:
            scores = {item.pk: _item_score(request, item) for item in inspection.scorecard.items.all()}
            done = services.inspection_submit(
                inspection=inspection, scores=scores, root_cause=request.POST.get("root_cause", ""), actor=request.user
            )
            done.refresh_from_db()
            messages.success(
                request,
                (
                    _("Inspection of %(t)s saved: %(score)s, passed.")
                    if done.passed
                    else _("Inspection of %(t)s saved: %(score)s, failed.")
                )
                % {"t": inspection.ticket.external_id, "score": score_display(done.score)},
            )
            return redirect("qa-queue")
        except ValidationError as exc:
            errors = exc.messages
        except ArithmeticError:
            errors = [_("Enter a number.")]
    return render(
        request,
        "performance/qa_queue.html",
        {
            "inspection": inspection,
            "remaining": pending.count(),
            "errors": errors,
            "items": inspection.scorecard.items.all() if inspection else [],
        },
    )


def _item_score(request, item):
    """An item's score as typed: empty or "na" is not applicable; anything else a number in 0–100,
    checked before any arithmetic (``1e999999999`` and ``NaN`` are refused at once)."""
    raw = request.POST.get(f"item_{item.pk}", "").strip()
    if raw in ("", "na"):
        return None
    try:
        return bounded_decimal(raw, max_digits=SCORE_DIGITS, places=SCORE_PLACES, low=0, high=100)
    except ValueError as exc:
        raise ValidationError(f"{item.name}: {exc}") from None


EARLIEST, LATEST = datetime.date(1970, 1, 1), datetime.date(9000, 1, 1)  # a window the calendar can hold


@door("performance.view_qa_dashboard")
def qa_dashboard(request):
    """Pass rate by team, inspector and rubric item; calibration drift between inspectors."""
    today = timezone.localdate()
    try:
        start = datetime.date.fromisoformat(request.GET.get("start", ""))
        end = datetime.date.fromisoformat(request.GET.get("end", ""))
        if not EARLIEST <= start < end <= LATEST:
            raise ValueError("window out of range")
    except ValueError:  # a missing or bad window: the last 90 days
        end = today + datetime.timedelta(days=1)
        start = end - datetime.timedelta(days=90)
    rounds = list(CalibrationRound.objects.select_related("scorecard")[:5])
    return render(
        request,
        "performance/qa_dashboard.html",
        {
            "start": start,
            "end": end,
            **selectors.qa_dashboard(start=start, end=end),
            "rounds": [(r, selectors.calibration_drift(round=r)) for r in rounds],
        },
    )


@require_POST
@door("performance.dispute_inspection", obj=("pk", Inspection))
def inspection_dispute(request, pk):
    me = my_staff(request)
    inspection = get_object_or_404(Inspection.objects.filter(ticket__staff=me), pk=pk)
    try:
        services.inspection_dispute(inspection=inspection, reason=request.POST.get("reason", ""), actor=request.user)
        messages.success(request, _("Dispute filed: a second inspector will review it."))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("my-results")
