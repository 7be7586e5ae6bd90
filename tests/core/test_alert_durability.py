"""Alerts are never lost and never sent twice — with a real Celery worker, real Redis and a
real SMTP server on loopback (SPEC §5 Alerts)."""

import time
from contextlib import contextmanager

import kombu.pools
import pytest

from config.celery import app as celery_app
from safety.models import AdverseEvent
from scr_escc.models import Alert, Study
from scr_escc.selectors import get_study
from scr_escc.tasks import sweep_alerts
from tests.factories import make_ae, make_participant

pytestmark = pytest.mark.worker


def wait_for(condition, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@contextmanager
def broker_down():
    """The web process cannot reach Redis: its producer points at a port nobody listens on."""
    original = celery_app.conf.broker_url
    _reset_connections()
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    try:
        yield
    finally:
        _reset_connections()
        celery_app.conf.broker_url = original


def _reset_connections():
    # Forget every pooled connection and producer, so the next publish connects afresh.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def two_deaths_setup(sh01, coordinator, pi, study):
    first = make_participant(site=sh01, user=coordinator)
    second = make_participant(site=sh01, user=coordinator)
    return first, second


def test_alert_is_delivered_by_a_real_worker(celery_worker_process, smtp_sink, two_deaths_setup, coordinator):
    first, _ = two_deaths_setup
    make_ae(participant=first, user=coordinator, grade=5, related="possible")
    assert wait_for(lambda: Alert.objects.filter(kind="stopping_rule_warning", status="sent").exists())
    assert wait_for(lambda: Alert.objects.filter(kind="sae_reported", status="sent").exists())
    subjects = smtp_sink.subjects()
    assert sum("Stopping-rule warning" in s for s in subjects) == 1
    assert ["pi@example.org"] in smtp_sink.envelopes


def test_broker_down_then_back_delivers_exactly_once(celery_worker_process, smtp_sink, two_deaths_setup, coordinator):
    first, second = two_deaths_setup
    make_ae(participant=first, user=coordinator, grade=5, related="possible")
    assert wait_for(lambda: not Alert.objects.exclude(status="sent").exists())
    before = len(smtp_sink.messages)

    with broker_down():
        started = time.monotonic()
        halting = make_ae(participant=second, user=coordinator, grade=5, related="probable")
        elapsed = time.monotonic() - started
        # The clinical change is saved, the request did not hang, and the alert waits in the outbox.
        assert AdverseEvent.objects.filter(pk=halting.pk).exists()
        assert get_study().phase == Study.Phase.HALTED
        triggered = Alert.objects.get(kind="stopping_rule_triggered")
        assert triggered.status == "pending"
        assert elapsed < 10
    time.sleep(1.5)
    assert Alert.objects.get(kind="stopping_rule_triggered").status == "pending"
    assert len(smtp_sink.messages) == before

    # Broker back: the sweeper (beat's task, here published once by hand) delivers it.
    sweep_alerts.delay()
    assert wait_for(lambda: Alert.objects.get(kind="stopping_rule_triggered").status == "sent")
    sweep_alerts.delay()
    sweep_alerts.delay()
    time.sleep(2)
    triggered_mails = [s for s in smtp_sink.subjects() if "STOPPING RULE TRIGGERED" in s]
    assert len(triggered_mails) == 1
    assert Alert.objects.get(kind="stopping_rule_triggered").attempts == 1


def test_smtp_failing_three_times_is_retried_and_delivered_once(
    celery_worker_process, smtp_sink, two_deaths_setup, coordinator
):
    first, _ = two_deaths_setup
    smtp_sink.fail_next(3)
    make_ae(
        participant=first,
        user=coordinator,
        grade=3,
        related="possible",
        serious=True,
        seriousness_criteria=["hospitalization"],
    )
    alert = Alert.objects.get(kind="sae_reported")
    assert wait_for(lambda: Alert.objects.get(pk=alert.pk).status == "sent", timeout=45)
    alert.refresh_from_db()
    assert smtp_sink.refused == 3
    assert alert.attempts == 4
    assert list(alert.delivery_attempts.values_list("succeeded", flat=True)) == [False, False, False, True]
    time.sleep(2)
    assert sum("SAE reported" in s for s in smtp_sink.subjects()) == 1
