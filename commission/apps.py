from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionConfig(AppConfig):
    name = "commission"
    verbose_name = _("Commission")

    def ready(self):
        """Connect commission to the cycle's life on the appraisal side (performance never imports it)."""
        from performance.appraisal import hooks

        from . import compute, locks  # noqa: F401 - locks registers the money side's row locks

        hooks.cycle_created.connect(compute.cycle_attach_plans)
        hooks.member_roles.connect(compute.cycle_plan_roles)
        hooks.before_close.connect(compute.cycle_assert_payouts_open)
        hooks.after_close.connect(compute.cycle_payouts_compute)
        hooks.locked_cycle_ids.connect(compute.locked_cycle_ids)
        hooks.after_calibration.connect(compute.payouts_mark_recompute)
