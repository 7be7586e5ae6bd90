"""Celery tasks: thin callers of scr_escc.alerts."""

from celery import shared_task

from scr_escc import alerts


@shared_task(ignore_result=False)
def ping(value: str) -> str:
    """Round-trip check through the broker and a worker (health checks and tests)."""
    return f"pong:{value}"


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=alerts.MAX_ATTEMPTS)
def send_alert(self, alert_id: int) -> str:
    try:
        return alerts.deliver(alert_id)
    except alerts.TransientFailure as failure:
        raise self.retry(countdown=failure.retry_in, exc=failure)


@shared_task
def sweep_alerts() -> int:
    return alerts.sweep()
