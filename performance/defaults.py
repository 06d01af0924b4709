"""What a new database starts with: each room's defaults, installed by a data migration."""

from performance.org.defaults import install_groups
from performance.qa.defaults import install_scorecard
from performance.sla.defaults import install_sla


def install_defaults(apps) -> None:
    """Idempotent: safe on a new database, after a test flush, and again."""
    install_groups(apps)
    install_sla(apps)
    install_scorecard(apps)
