"""A cycle's life: create, close (through Celery or here and now), finalize, reopen.

``actor`` is always the acting login (a ``User``), or None for the system (the beat tick).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from performance.common.audit import audited
from performance.common.authority import require

from . import hooks, runs
from .locks import cycle_assert_editable
from .models import AppraisalCycle, AppraisalTemplate, CycleState
from .selectors import cycle_members, cycle_roles
from .tasks import send_unsent


@transaction.atomic
def cycle_create(*, name, start, end, templates=None, plans=None, actor=None, appeal_days=None) -> AppraisalCycle:
    """An open cycle over [start, end) with the given templates (every active one by default).

    Every door that makes a cycle calls this (``create_cycle``, the admin's add form, the beat
    tick): the same checks, the same plans pinned through ``hooks.cycle_created``.
    """
    require(actor, "performance.add_appraisalcycle")
    if AppraisalCycle.objects.filter(name=name).exists():
        raise ValidationError(_("A cycle named %(name)s exists already.") % {"name": name})
    if templates:
        chosen = []
        for code in templates:
            template = AppraisalTemplate.objects.filter(code=code, active=True).order_by("-version").first()
            if template is None:
                raise ValidationError(_("No active template with code %(code)s.") % {"code": code})
            chosen.append(template)
    else:
        chosen = list(AppraisalTemplate.objects.filter(active=True))
    cycle = AppraisalCycle(
        name=name,
        start=start,
        end=end,
        state=CycleState.OPEN,
        appeal_days=settings.APPRAISAL["APPEAL_DAYS"] if appeal_days is None else appeal_days,
    )
    cycle.full_clean()
    audited(cycle, actor).save()
    cycle.templates.set(chosen)
    for hook in hooks.cycle_created:
        hook(cycle=cycle, plans=plans)
    return cycle


def cycle_close(*, cycle: AppraisalCycle, actor=None, inline: bool = False, retry: bool = False) -> AppraisalCycle:
    """Start the close of a cycle: metrics, scores, grades, then the after-close hooks (payouts).

    One close at a time: the row lock serialises requests and a running close refuses a second,
    unless ``retry`` and it has stalled past its bound (``runs.stalled_for``); a failed close
    can always be started again. The chunks go to Celery once this transaction commits;
    ``inline`` runs them here and now instead (demo seeding, and the benchmark that times the
    close without a broker). Closing a closed cycle again recomputes it.
    """
    require(actor, "performance.retry_close_appraisalcycle" if retry else "performance.close_appraisalcycle")
    with transaction.atomic():
        cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
        cycle_assert_editable(cycle)
        if cycle.state == CycleState.CLOSING and not (retry and runs.stalled_for(cycle) is not None):
            if retry:
                raise ValidationError(
                    _(
                        "The close of %(name)s is running and on time (last progress %(ago)s ago); it is retried by "
                        "itself if it stalls."
                    )
                    % {"name": cycle.name, "ago": timesince(runs.last_progress(cycle))}
                )
            raise ValidationError(_("Cycle %(name)s is already closing; wait for it to finish.") % {"name": cycle.name})
        for hook in hooks.before_close:
            hook(cycle=cycle)
        cycle.state = CycleState.CLOSING
        cycle.close_run += 1
        cycle.progress_done = 0
        cycle.progress_total = len(cycle_members(cycle=cycle, roles=cycle_roles(cycle=cycle)))
        cycle.error = ""
        cycle.closing_started_at, cycle.progress_at = timezone.now(), None
        cycle.score_attempt, cycle.score_sent_at = 0, None
        audited(cycle, actor, reason="retry" if retry else None).save()
        run = cycle.close_run
        runs.plan(cycle=cycle)
        if not inline:
            transaction.on_commit(lambda: send_unsent(cycle.pk, run))
    if inline:
        runs.run_here(cycle_id=cycle.pk, run=run)
    cycle.refresh_from_db()
    return cycle


@transaction.atomic
def cycle_finalize(*, cycle, actor) -> AppraisalCycle:
    """Lock a cycle in review: its scores, ratings, appeals and input data can no longer change.

    A compare-and-set under the cycle's row lock: only a cycle in review moves to finalized.
    """
    require(actor, "performance.finalize_appraisalcycle")
    cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.state == CycleState.FINALIZED:
        return cycle
    if cycle.state != CycleState.REVIEW:
        raise ValidationError(_("Only a cycle in review can be finalized."))
    cycle.state, cycle.finalized_at = CycleState.FINALIZED, timezone.now()
    audited(cycle, actor).save()
    return cycle


@transaction.atomic
def cycle_reopen(*, cycle, actor, reason: str) -> AppraisalCycle:
    """A superuser takes a finalized cycle back to review, with a reason in the audit trail."""
    require(actor, "performance.reopen_appraisalcycle")
    if not reason:
        raise ValidationError(_("Reopening needs a reason."))
    cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.state != CycleState.FINALIZED:
        raise ValidationError(_("Only a finalized cycle can be reopened."))
    cycle.state = CycleState.REVIEW
    audited(cycle, actor, reason=reason).save()
    return cycle
