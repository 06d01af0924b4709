"""Thin Celery tasks of the SLA room: take ids, call one service."""

from celery import shared_task
from django.utils import timezone


@shared_task
def complaints_mark_breaches_task() -> None:
    from .services import complaints_mark_breaches  # a task body imports its service

    complaints_mark_breaches(now=timezone.now())
