"""Reviews of a cycle's results: KCI ratings, calibration, appeals.

``actor`` is always the acting login (a ``User``).
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.common.audit import audited
from performance.common.authority import require

from . import hooks, rules, scoring
from .locks import cycle_assert_editable
from .models import Appeal, AppealStatus, Appraisal, CycleState, KciRating
from .selectors import EFFECTIVE_SCORE, kci_items, template_grades


@transaction.atomic
def kci_rate_many(*, cycle, staff, ratings: dict, rated_by=None, actor=None) -> list[KciRating]:
    """A manager's ratings of several KCI items of a member, all or none.

    ``ratings``: item code → (rating, comment). Every item is checked first; any problem raises a
    ValidationError keyed by item code and nothing is written.
    """
    require(actor, "performance.rate_kci", staff)
    cycle_assert_editable(cycle)
    items = {i.code: i for i in kci_items(cycle=cycle).get(staff.role, [])}
    problems = {}
    for code, (rating, _comment) in ratings.items():
        item = items.get(code)
        if item is None:
            problems[code] = _("%(v)r is not a rated (KCI) indicator of this member's template in %(c)s") % {
                "v": code,
                "c": cycle.name,
            }
            continue
        problem = rules.Rating.out_of_scale(rating, item.params)
        if problem:
            problems[code] = f"{item.name or item.code}: {problem}"
    if problems:
        raise ValidationError(problems)
    return [
        kci_rate(
            cycle=cycle, staff=staff, indicator=code, rating=rating, comment=comment, rated_by=rated_by, actor=actor
        )
        for code, (rating, comment) in ratings.items()
    ]


@transaction.atomic
def kci_rate(*, cycle, staff, indicator, rating, comment="", rated_by=None, actor=None) -> KciRating:
    """A manager's rating of one KCI item of a member (again: replaces it), within the item's scale."""
    require(actor, "performance.rate_kci", staff)
    cycle_assert_editable(cycle)
    item = next((i for i in kci_items(cycle=cycle).get(staff.role, []) if i.code == indicator), None)
    if item is None:
        raise ValidationError(
            _("%(v)r is not a rated (KCI) indicator of this member's template in %(c)s")
            % {"v": indicator, "c": cycle.name}
        )
    problem = rules.Rating.out_of_scale(rating, item.params)
    if problem:
        raise ValidationError(f"{item.name or item.code}: {problem}")
    obj = KciRating.objects.filter(cycle=cycle, staff=staff, indicator=indicator).first() or KciRating(
        cycle=cycle, staff=staff, indicator=indicator
    )
    obj.rating, obj.comment, obj.rated_by = rating, comment, rated_by
    obj.full_clean()
    audited(obj, actor).save()
    return obj


def appraisal_override_problems(*, appraisal, score=None, grade="", reason="") -> dict[str, str]:
    """What is wrong with a calibration, by field (empty when nothing is): the form shows these
    beside the fields, and the service refuses the same."""
    problems = {}
    if not (reason or "").strip():
        problems["override_reason"] = _("A calibration needs a reason.")
    if score is not None and not 0 <= score <= 100:
        problems["override_score"] = _("%(v)s is outside 0–100.") % {"v": score}
    if grade and grade not in template_grades(appraisal.template):
        problems["override_grade"] = _("%(v)r is not a grade of template %(t)s.") % {
            "v": grade,
            "t": appraisal.template,
        }
    return problems


@transaction.atomic
def appraisal_override(*, appraisal, score=None, grade="", reason, actor) -> Appraisal:
    """HR calibrates a result: a score (0–100) and/or a grade of the member's template, with a reason.

    The effective ranks of the template's members in the cycle follow the calibrated scores, and
    payouts already computed for the cycle are marked for recompute (``hooks.after_calibration``).
    """
    require(actor, "performance.change_appraisal")
    cycle_assert_editable(appraisal.cycle)
    problems = appraisal_override_problems(appraisal=appraisal, score=score, grade=grade, reason=reason)
    if problems:
        raise ValidationError(problems)
    appraisal.override_score, appraisal.override_grade = score, grade or ""
    appraisal.override_reason = reason.strip()
    audited(appraisal, actor).save()
    calibrated_ranks_refresh(cycle=appraisal.cycle)
    for hook in hooks.after_calibration:
        hook(cycle=appraisal.cycle, staff_ids=[appraisal.staff_id])
    return appraisal


def calibrated_ranks_refresh(*, cycle) -> None:
    """Places by effective score where a calibration changed a score, per template of the cycle.

    The contract's ``rank`` stays the computed place; ``calibrated_rank`` holds the place among the
    same eligible members by effective score (ties by employee_no), and is empty on templates where
    nobody's score was calibrated. Run after a calibration and after every close.
    """
    calibrated = set(
        Appraisal.objects.filter(cycle=cycle, override_score__isnull=False).values_list("template_id", flat=True)
    )
    Appraisal.objects.filter(cycle=cycle, calibrated_rank__isnull=False).exclude(template_id__in=calibrated).update(
        calibrated_rank=None
    )
    for template_id in calibrated:
        group = Appraisal.objects.filter(cycle=cycle, template_id=template_id)
        rows = list(
            group.filter(eligible=True)
            .annotate(s=EFFECTIVE_SCORE)
            .exclude(s=None)
            .values_list("pk", "staff__employee_no", "s")
        )
        places = {pk: place for place, pk in enumerate(scoring.order_for_rank(rows), start=1)}
        changed = [
            Appraisal(pk=pk, calibrated_rank=places.get(pk))
            for pk, before in group.values_list("pk", "calibrated_rank")
            if places.get(pk) != before
        ]
        Appraisal.objects.bulk_update(changed, ["calibrated_rank"], batch_size=1000)


def appeal_deadline(cycle) -> datetime.date | None:
    """The last day staff may appeal a result of the cycle (None before it closed)."""
    if cycle.closed_at is None:
        return None
    return timezone.localdate(cycle.closed_at) + datetime.timedelta(days=cycle.appeal_days)


@transaction.atomic
def appeal_file(*, appraisal, reason, actor) -> Appeal:
    require(actor, "performance.add_appeal", appraisal)
    cycle = appraisal.cycle
    deadline = appeal_deadline(cycle)
    if cycle.state != CycleState.REVIEW or deadline is None or timezone.localdate() > deadline:
        raise ValidationError(_("Appeals for this cycle are closed."))
    if appraisal.appeals.filter(status=AppealStatus.OPEN).exists():
        raise ValidationError(_("An appeal on this result is already open."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for the appeal."))
    appeal = Appeal(appraisal=appraisal, reason=reason.strip())
    audited(appeal, actor).save()
    return appeal


@transaction.atomic
def appeal_decide(*, appeal, upheld: bool, decision: str, actor) -> Appeal:
    """HR decides an open appeal, once: the row is locked and a decided appeal stays decided."""
    require(actor, "performance.change_appeal")
    appeal = Appeal.objects.select_for_update().select_related("appraisal__cycle", "appraisal__staff").get(pk=appeal.pk)
    if appeal.status != AppealStatus.OPEN:
        return appeal
    cycle_assert_editable(appeal.appraisal.cycle)
    appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
    appeal.decision, appeal.decided_by, appeal.decided_at = decision, actor, timezone.now()
    audited(appeal, actor).save()
    email = appeal.appraisal.staff.email
    if email:
        transaction.on_commit(
            lambda: send_mail(
                _("Your appeal was decided"),
                _("Your appeal on %(cycle)s was %(status)s: %(decision)s")
                % {"cycle": appeal.appraisal.cycle.name, "status": appeal.get_status_display(), "decision": decision},
                None,
                [email],
                fail_silently=True,
            )
        )
    return appeal
