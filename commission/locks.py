"""Row locks of the money side, asked by every door (``performance.common.locking``).

Approved, exported and paid payouts are never changed or deleted from any door (only the
workflow moves them, state by state); payroll batches are permanent; a plan version a
cycle uses is read-only; an answered question stays answered.
"""

from django.utils.translation import gettext as _

from performance.common import locking

from .models import LOCKED_PAYOUT_STATES, ExportBatch, Payout, PlanRate, PlanVersion, QueryStatus, StatementQuery


@locking.register(Payout)
def payout_row(payout):
    stored = Payout.objects.filter(pk=payout.pk).values_list("status", flat=True).first() if payout.pk else None
    if stored in LOCKED_PAYOUT_STATES:
        return locking.Lock(
            _("This payout is %(status)s: it changes only through the finance workflow and is never deleted.")
            % {"status": stored}
        )
    return None


@locking.register(ExportBatch)
def export_batch_row(batch):
    if batch.pk is None:
        return None
    return locking.Lock(_("A payroll batch is a permanent record of what was paid."))


@locking.register(PlanVersion)
def plan_version_row(version):
    if version.pk is not None and version.cycle_plans.exists():
        return locking.Lock(_("A cycle uses this plan version: save it as a new version instead."))
    return None


@locking.register(PlanRate)
def plan_rate_row(rate):
    return plan_version_row(rate.version) if rate.version_id else None


@locking.register(StatementQuery)
def statement_query_row(query):
    stored = StatementQuery.objects.filter(pk=query.pk).values_list("status", flat=True).first() if query.pk else None
    if stored == QueryStatus.ANSWERED:
        return locking.Lock(_("This question was answered."))
    return None
