from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = _("Performance")

    def ready(self):
        """Register the row locks of cycle data (every door asks them through common.locking)."""
        from performance.appraisal import locks  # noqa: F401
