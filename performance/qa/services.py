"""Every write of quality inspection: scoring, disputes and their review, replacements, calibration.

``actor`` is always the acting login (a ``User``); the inspector or agent is its staff record.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.common.audit import audited
from performance.common.authority import require
from performance.common.money import round_half_up
from performance.common.numbers import bounded_decimal, frac

from .models import CalibrationScore, Inspection, InspectionScore, InspectionStatus
from .sampling import next_in_hash_order

SCORE_DIGITS, SCORE_PLACES = 6, 2  # InspectionScore.score


def _staff_of(actor):
    staff = getattr(actor, "staff", None)
    if staff is None:
        raise ValidationError(_("This login has no staff record."))
    return staff


def inspection_score(*, scorecard, scores: dict) -> tuple[Decimal, bool]:
    """Weighted mean of applicable items (N/A rescales the weights); a failed critical item fails all.

    Each score is checked (a finite number within 0–100, at most two decimals) before any
    arithmetic, whichever door it came through.
    """
    items = list(scorecard.items.all())
    applicable = []
    for it in items:
        if scores.get(it.pk) is None:
            continue
        try:
            value = bounded_decimal(scores[it.pk], max_digits=SCORE_DIGITS, places=SCORE_PLACES)
        except ValueError as exc:
            raise ValidationError(f"{it.name}: {exc}") from None
        if not 0 <= value <= 100:
            raise ValidationError(_("%(item)s: a score must lie within 0–100.") % {"item": it.name})
        applicable.append((it, frac(value)))
    if not applicable:
        raise ValidationError(_("Score at least one item."))
    total_w = sum(frac(it.weight) for it, _s in applicable)
    total = sum(frac(it.weight) * s for it, s in applicable) / total_w
    pass_mark = frac(scorecard.pass_mark)
    critical_failed = any(it.critical and s < pass_mark for it, s in applicable)
    return round_half_up(total, 2), (total >= pass_mark and not critical_failed)


@transaction.atomic
def inspection_submit(*, inspection, scores: dict, root_cause: str = "", actor) -> Inspection:
    require(actor, "performance.inspect")
    inspector = _staff_of(actor)
    inspection = Inspection.objects.select_for_update().select_related("scorecard", "ticket").get(pk=inspection.pk)
    reviewing = inspection.status == InspectionStatus.DISPUTED
    if inspection.status not in (InspectionStatus.PENDING, InspectionStatus.DISPUTED):
        raise ValidationError(_("This inspection is already done."))
    if inspection.ticket.staff_id == inspector.pk:
        raise ValidationError(_("Nobody inspects their own tickets."))
    if reviewing and inspector.pk == inspection.inspector_id:
        raise ValidationError(_("A dispute is reviewed by a second inspector."))
    total, passed = inspection_score(scorecard=inspection.scorecard, scores=scores)
    if not passed and not root_cause.strip():
        raise ValidationError(_("A failed inspection needs a root-cause note."))
    InspectionScore.objects.filter(inspection=inspection, review=reviewing).delete()
    InspectionScore.objects.bulk_create(
        InspectionScore(inspection=inspection, item_id=item_id, score=score, review=reviewing)
        for item_id, score in scores.items()
    )
    if reviewing:
        inspection.first_score, inspection.first_passed = inspection.score, inspection.passed
        inspection.reviewer = inspector
        inspection.status = InspectionStatus.REVIEWED
    else:
        inspection.inspector = inspector
        inspection.status = InspectionStatus.DONE
    inspection.score, inspection.passed = total, passed
    inspection.root_cause = "" if passed else root_cause.strip()
    inspection.completed_at = timezone.now()
    audited(inspection, actor).save()
    return inspection


@transaction.atomic
def inspection_dispute(*, inspection, reason: str, actor) -> Inspection:
    require(actor, "performance.dispute_inspection", inspection)
    if inspection.ticket.staff_id != _staff_of(actor).pk:
        raise ValidationError(_("Only the agent can dispute their inspection."))
    if inspection.status != InspectionStatus.DONE or inspection.passed:
        raise ValidationError(_("Only a failed, completed inspection can be disputed."))
    deadline = inspection.completed_at + datetime.timedelta(days=settings.QA["DISPUTE_DAYS"])
    if timezone.now() > deadline:
        raise ValidationError(_("The dispute window has closed."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for the dispute."))
    inspection.status, inspection.dispute_reason = InspectionStatus.DISPUTED, reason.strip()
    audited(inspection, actor).save()
    return inspection


@transaction.atomic
def inspection_replace(*, inspection, reason: str, actor, seed=None) -> Inspection | None:
    """Swap a ticket that cannot be judged for the agent's next ticket in hash order."""
    require(actor, "performance.inspect")
    if inspection.status != InspectionStatus.PENDING:
        raise ValidationError(_("Only a pending inspection can be replaced."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for the replacement."))
    seed = str(seed if seed is not None else (inspection.draw_seed or settings.QA["SEED"]))
    candidate = next_in_hash_order(inspection=inspection, seed=seed)
    inspection.status, inspection.replaced_reason = InspectionStatus.REPLACED, reason.strip()
    audited(inspection, actor).save()
    if candidate is None:
        return None
    replacement = Inspection(
        ticket=candidate,
        scorecard=inspection.scorecard,
        inspector=inspection.inspector,
        sampled_at=timezone.now(),
        window_start=inspection.window_start,
        window_end=inspection.window_end,
        pooled=inspection.pooled,
        draw_seed=seed,
    )
    audited(replacement, actor).save()
    return replacement


@transaction.atomic
def calibration_score(*, round, ticket, scores: dict, actor) -> None:
    """An inspector's blind scores of one calibration ticket (again: replaces them)."""
    require(actor, "performance.inspect")
    inspector = _staff_of(actor)
    if not round.open:
        raise ValidationError(_("This calibration round is closed."))
    inspection_score(scorecard=round.scorecard, scores=scores)  # the same checks as a real inspection
    CalibrationScore.objects.filter(round=round, ticket=ticket, inspector=inspector).delete()
    CalibrationScore.objects.bulk_create(
        CalibrationScore(round=round, ticket=ticket, inspector=inspector, item_id=item, score=s)
        for item, s in scores.items()
    )
