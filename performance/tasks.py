"""Celery's autodiscovery finds every room's tasks through this module."""

from performance.appraisal import scheduling  # noqa: F401  (the beat tick)
from performance.appraisal import tasks as appraisal_tasks  # noqa: F401
from performance.qa import tasks as qa_tasks  # noqa: F401
from performance.sla import tasks as sla_tasks  # noqa: F401
