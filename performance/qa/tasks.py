"""Thin Celery tasks of the QA room."""

import datetime

from celery import shared_task
from django.utils import timezone


@shared_task
def qa_sample_last_week_task() -> None:
    from .sampling import qa_sample  # a task body imports its service

    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    qa_sample(start=monday - datetime.timedelta(days=7), end=monday)
