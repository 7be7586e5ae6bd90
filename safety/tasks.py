"""Celery tasks of the safety app: thin callers of safety.services."""

from celery import shared_task

from safety import services


@shared_task
def reconcile_stopping_rule() -> dict:
    return services.reconcile_stopping_rule()
