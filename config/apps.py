from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConfigConfig(AppConfig):
    name = "config"
    label = "config"
    verbose_name = _("Site")

    def ready(self):
        """Install the permission matrix: every door asks it from the first request on."""
        from . import policy

        policy.install()
