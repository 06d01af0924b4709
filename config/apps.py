from axes.apps import AppConfig as AxesConfig
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


class LoginThrottlingConfig(AxesConfig):
    """django-axes under a name HR reads (its own app has none, so the admin showed "Axes")."""

    verbose_name = _("Login throttling")
