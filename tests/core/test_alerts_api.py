"""SPEC §5 Alerts and §10: the alert list for PI and admins (API and page), and delivery from the
outbox without a worker — claimed once, retried on mail failure, failed after the last attempt,
stale claims freed by the sweeper."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from scr_escc import alerts
from scr_escc.alerts import MAX_ATTEMPTS, TransientFailure, deliver, queue_alert, sweep
from scr_escc.models import Alert, AlertAttempt

FAILING_BACKEND = "tests.core.test_alerts_api.DisconnectingBackend"
REFUSING_BACKEND = "tests.core.test_alerts_api.RefusingBackend"


class DisconnectingBackend(BaseEmailBackend):
    """A mail server that hangs up: a transient failure."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses the message for good (5xx)."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPDataError(554, b"Transaction failed: message rejected")


def make_alert(key="sae_reported:1", kind=Alert.Kind.SAE_REPORTED, **fields) -> Alert:
    alert = queue_alert(kind=kind, key=key, subject=f"Alert {key}", body="Subject SH01-001, site SH01")
    if fields:
        Alert.objects.filter(pk=alert.pk).update(**fields)
        alert.refresh_from_db()
    return alert


@pytest.fixture
def recipients(pi, admin_user):
    """PI and admin have email addresses, so alerts have recipients."""
    return ["dm@example.org", "pi@example.org"]


# --- GET /api/v1/alerts/ ------------------------------------------------------------------


@pytest.fixture
def some_alerts(recipients):
    now = timezone.now()
    return [
        make_alert("sae_reported:1"),
        make_alert(
            "stopping_rule_warning:SH01-001",
            kind=Alert.Kind.STOPPING_RULE_WARNING,
            status="sent",
            sent_at=now,
            attempts=1,
        ),
        make_alert("phase_changed:1", kind=Alert.Kind.PHASE_CHANGED, status="failed", attempts=MAX_ATTEMPTS),
        make_alert("sae_reported:2", status="sending", claimed_at=now),
    ]


@pytest.mark.parametrize("role", ["pi", "admin_user"])
def test_pi_and_admin_list_alerts_with_their_status(role, some_alerts, request, api):
    response = api(request.getfixturevalue(role)).get("/api/v1/alerts/")
    assert response.status_code == 200
    body = response.json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == 4
    for item in body["results"]:
        assert {"kind", "key", "created_at", "sent_at", "status"} <= set(item)
    statuses = {item["key"]: item["status"] for item in body["results"]}
    assert statuses == {
        "sae_reported:1": "pending",
        "stopping_rule_warning:SH01-001": "sent",
        "phase_changed:1": "failed",
        "sae_reported:2": "pending",  # claimed by a worker, not yet accepted by the mail server
    }
    sent = next(item for item in body["results"] if item["status"] == "sent")
    assert sent["sent_at"] is not None
    assert next(item for item in body["results"] if item["key"] == "sae_reported:1")["sent_at"] is None


def test_alert_status_is_one_of_pending_sent_failed(some_alerts, pi, api):
    results = api(pi).get("/api/v1/alerts/").json()["results"]
    assert {item["status"] for item in results} <= {"pending", "sent", "failed"}


def test_alert_list_is_paginated(recipients, pi, api):
    for n in range(55):
        make_alert(f"sae_reported:{n}")
    client = api(pi)
    first = client.get("/api/v1/alerts/").json()
    assert first["count"] == 55
    assert len(first["results"]) == 50
    assert first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert {a["key"] for a in first["results"]}.isdisjoint({a["key"] for a in second["results"]})


def test_alert_list_filters_by_kind(some_alerts, pi, api):
    results = api(pi).get("/api/v1/alerts/", {"kind": "phase_changed"}).json()["results"]
    assert [a["key"] for a in results] == ["phase_changed:1"]


@pytest.mark.parametrize("role", ["coordinator", "investigator", "monitor"])
def test_alert_list_is_403_for_other_roles(role, some_alerts, request, api):
    response = api(request.getfixturevalue(role)).get("/api/v1/alerts/")
    assert response.status_code == 403
    assert "results" not in response.json()


def test_alert_list_is_401_without_credentials(some_alerts):
    response = APIClient().get("/api/v1/alerts/")
    assert response.status_code == 401
    assert "results" not in response.json()


# --- The /alerts/ page -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["pi", "admin_user"])
def test_alerts_page_for_pi_and_admin(role, some_alerts, request, login):
    response = login(request.getfixturevalue(role)).get("/alerts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alert phase_changed:1" in html
    assert "Serious adverse event reported" in html
    assert response.context["needing_attention"] == 3  # pending, sending, failed


@pytest.mark.parametrize("role", ["coordinator", "investigator", "monitor"])
def test_alerts_page_is_403_for_other_roles(role, some_alerts, request, login):
    response = login(request.getfixturevalue(role)).get("/alerts/")
    assert response.status_code == 403
    assert "phase_changed:1" not in response.content.decode()


def test_alerts_page_sends_anonymous_users_to_sign_in(some_alerts, client):
    response = client.get("/alerts/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- The outbox: queue_alert ---------------------------------------------------------------


def test_queue_alert_with_an_existing_key_returns_none_and_creates_no_row(recipients):
    first = make_alert("stopping_rule_triggered:1", kind=Alert.Kind.STOPPING_RULE_TRIGGERED)
    again = queue_alert(
        kind=Alert.Kind.STOPPING_RULE_TRIGGERED, key="stopping_rule_triggered:1", subject="Again", body="Again"
    )
    assert again is None
    assert list(Alert.objects.values_list("pk", flat=True)) == [first.pk]
    assert Alert.objects.get().subject.endswith("Alert stopping_rule_triggered:1")


def test_queue_alert_goes_to_pi_admins_and_safety_contacts(recipients, study):
    from scr_escc.models import Study

    Study.objects.filter(pk=1).update(safety_contact_emails="dsmb@example.org; pi@example.org")
    alert = make_alert()
    assert alert.recipients == ["dm@example.org", "dsmb@example.org", "pi@example.org"]
    assert alert.subject.startswith("[SCR-ESCC-01]")


def test_queue_alert_enqueues_only_on_commit(recipients, monkeypatch, django_capture_on_commit_callbacks):
    enqueued = []
    monkeypatch.setattr(alerts, "enqueue", lambda alert_id, **kw: enqueued.append(alert_id) or True)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            alert = make_alert()
            assert enqueued == []
    assert len(callbacks) == 1
    assert enqueued == [alert.pk]


# --- deliver(): claimed once, sent once -------------------------------------------------


def test_deliver_sends_once_and_marks_sent(recipients):
    alert = make_alert()
    assert deliver(alert.pk) == "sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == alert.subject
    assert sorted(message.to) == recipients
    assert "SH01-001" in message.body
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, alert.claimed_at) == ("sent", 1, None)
    assert alert.sent_at is not None
    assert list(alert.delivery_attempts.values_list("succeeded", flat=True)) == [True]


def test_second_deliver_sends_nothing(recipients):
    alert = make_alert()
    deliver(alert.pk)
    assert deliver(alert.pk) == "sent"
    assert len(mail.outbox) == 1
    assert AlertAttempt.objects.filter(alert=alert).count() == 1


def test_deliver_does_not_send_an_alert_claimed_by_another_task(recipients):
    alert = make_alert(status="sending", claimed_at=timezone.now())
    assert deliver(alert.pk) == "sending"
    assert mail.outbox == []
    assert not AlertAttempt.objects.filter(alert=alert).exists()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("sending", 0)


def test_mail_failure_returns_the_alert_to_pending_with_a_later_attempt(recipients, settings):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    alert = make_alert()
    started = timezone.now()
    with pytest.raises(TransientFailure) as failure:
        deliver(alert.pk)
    assert failure.value.retry_in == settings.ALERT_RETRY_BACKOFF_SECONDS[0]
    alert.refresh_from_db()
    assert alert.status == "pending"
    assert alert.attempts == 1
    assert alert.claimed_at is None and alert.sent_at is None
    assert alert.next_attempt_at >= started + timedelta(seconds=settings.ALERT_RETRY_BACKOFF_SECONDS[0])
    assert "SMTPServerDisconnected" in alert.last_error
    assert list(alert.delivery_attempts.values_list("succeeded", flat=True)) == [False]
    assert mail.outbox == []


def test_alert_not_yet_due_is_not_sent(recipients, settings):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    alert = make_alert()
    with pytest.raises(TransientFailure):
        deliver(alert.pk)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert deliver(alert.pk) == "pending"
    assert mail.outbox == []
    assert AlertAttempt.objects.filter(alert=alert).count() == 1
    Alert.objects.filter(pk=alert.pk).update(next_attempt_at=timezone.now())
    assert deliver(alert.pk) == "sent"
    assert len(mail.outbox) == 1
    alert.refresh_from_db()
    assert alert.attempts == 2


def test_retry_waits_grow_with_each_attempt(recipients, settings):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    alert = make_alert()
    waits = []
    for _ in range(3):
        with pytest.raises(TransientFailure) as failure:
            deliver(alert.pk)
        waits.append(failure.value.retry_in)
        Alert.objects.filter(pk=alert.pk).update(next_attempt_at=timezone.now())
    assert waits == sorted(waits) and waits[0] < waits[-1]


def test_after_max_attempts_the_alert_is_failed(recipients, settings, pi, api):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    alert = make_alert()
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(TransientFailure):
            deliver(alert.pk)
        Alert.objects.filter(pk=alert.pk).update(next_attempt_at=timezone.now())
    assert deliver(alert.pk) == "failed"
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, alert.sent_at) == ("failed", MAX_ATTEMPTS, None)
    assert alert.delivery_attempts.count() == MAX_ATTEMPTS
    # Failed stays failed: no further try, even with a working mail server.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert deliver(alert.pk) == "failed"
    assert mail.outbox == []
    listed = api(pi).get("/api/v1/alerts/").json()["results"]
    assert sorted((a["key"], a["status"]) for a in listed) == [
        (f"escalated:{alert.key}", "pending"),  # an undelivered safety alert is escalated
        (alert.key, "failed"),
    ]


def test_permanent_smtp_refusal_fails_at_once(recipients, settings):
    settings.EMAIL_BACKEND = REFUSING_BACKEND
    alert = make_alert()
    assert deliver(alert.pk) == "failed"
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("failed", 1)
    assert "554" in alert.last_error


def test_alert_without_recipients_fails_visibly(db, study):
    alert = make_alert()
    assert alert.recipients == []
    assert deliver(alert.pk) == "failed"
    assert Alert.objects.get(pk=alert.pk).status == "failed"


# --- sweep(): frees stale claims, enqueues due rows -------------------------------------


@pytest.fixture
def enqueued(monkeypatch):
    """The sweeper's publishes, recorded instead of sent to the broker."""
    calls = []
    monkeypatch.setattr(alerts, "enqueue", lambda alert_id, **kw: calls.append(alert_id) or True)
    return calls


def test_sweep_frees_a_stale_claim_and_enqueues_it(recipients, enqueued):
    stale = make_alert("sae_reported:1", status="sending", claimed_at=timezone.now() - timedelta(minutes=6))
    sweep()
    stale.refresh_from_db()
    assert (stale.status, stale.claimed_at) == ("pending", None)
    assert enqueued == [stale.pk]
    assert deliver(stale.pk) == "sent"
    assert len(mail.outbox) == 1


def test_sweep_leaves_a_fresh_claim_alone(recipients, enqueued):
    claimed_at = timezone.now() - timedelta(minutes=1)
    fresh = make_alert("sae_reported:1", status="sending", claimed_at=claimed_at)
    sweep()
    fresh.refresh_from_db()
    assert (fresh.status, fresh.claimed_at) == ("sending", claimed_at)
    assert enqueued == []


def test_sweep_enqueues_due_pending_alerts_only(recipients, enqueued):
    now = timezone.now()
    due = make_alert("sae_reported:1")
    later = make_alert("sae_reported:2", next_attempt_at=now + timedelta(minutes=5))
    make_alert("sae_reported:3", status="sent", sent_at=now)
    make_alert("sae_reported:4", status="failed")
    assert sweep() == 1
    assert enqueued == [due.pk]
    assert later.pk not in enqueued
