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

from . import rules
from .locks import cycle_assert_editable
from .models import Appeal, AppealStatus, Appraisal, CycleState, KciRating
from .selectors import kci_items


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


@transaction.atomic
def appraisal_override(*, appraisal, score=None, grade="", reason, actor) -> Appraisal:
    require(actor, "performance.change_appraisal")
    cycle_assert_editable(appraisal.cycle)
    if not reason:
        raise ValidationError(_("A calibration needs a reason."))
    appraisal.override_score, appraisal.override_grade, appraisal.override_reason = score, grade, reason
    audited(appraisal, actor).save()
    return appraisal


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
