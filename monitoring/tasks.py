"""Celery tasks: thin callers of the monitoring services."""

from celery import shared_task

from monitoring.digest import send_query_digests
from monitoring.rules import raise_automatic_queries


@shared_task
def daily_monitoring() -> dict:
    """Raise the automatic queries the day brought (e.g. an AE still without end date after 90
    days), then mail each site its old open queries."""
    return {"raised": raise_automatic_queries(), "digests": send_query_digests()}
