"""Issue 16: alerts never go silent. Headers are sanitised; any error ends the attempt with the
error recorded; an undelivered safety alert is escalated to the data managers and an
escalation address and stays on every PI/admin page until a person acknowledges it; the
automatic halt sends phase_changed; a periodic recount catches a count that drifted."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import BadHeaderError, EmailMessage
from django.utils import timezone

from safety.services import reconcile_stopping_rule
from scr_escc import alerts
from scr_escc.models import Alert, AlertAttempt, PhaseTransition, Study
from scr_escc.selectors import get_study
from tests.factories import make_ae, make_participant
from tests.safety.ae_payloads import api_ae_payload


@pytest.fixture
def participant(sh01, coordinator, pi, admin_user, study):
    Study.objects.filter(pk=1).update(escalation_email="escalation@example.org")
    return make_participant(site=sh01, user=coordinator)


def _row(**fields) -> Alert:
    defaults = {
        "kind": Alert.Kind.SAE_REPORTED,
        "key": "sae_reported:test",
        "subject": "SAE",
        "body": "b",
        "recipients": ["pi@example.org"],
    }
    return Alert.objects.create(**(defaults | fields))


def test_a_newline_in_an_other_specify_term_never_reaches_the_subject(participant, coordinator, api):
    payload = api_ae_payload(
        term="Stent\nmigration\r\nBcc: x@example.org",
        soc="Gastrointestinal disorders",
        serious=True,
        seriousness_criteria=["hospitalization"],
    )
    response = api(coordinator).post(
        f"/api/v1/participants/{participant.subject_id}/adverse-events/", payload, format="json"
    )
    assert response.status_code == 201, response.content
    alert = Alert.objects.get(kind="sae_reported")
    assert "\n" not in alert.subject and "\r" not in alert.subject
    assert alerts.deliver(alert.pk) == "sent"
    assert mail.outbox[-1].subject == alert.subject


def test_deliver_ends_sent_for_a_stored_subject_with_a_newline(participant):
    alert = _row(subject="SAE\nBcc: x@example.org")
    assert alerts.deliver(alert.pk) == "sent"
    assert "\n" not in mail.outbox[-1].subject


def test_a_message_that_cannot_be_sent_fails_with_the_error_and_is_escalated(participant, monkeypatch):
    alert = _row()

    def refuse(self, fail_silently=False):
        raise BadHeaderError("Header values can't contain newlines")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    assert alerts.deliver(alert.pk) == "failed"
    alert.refresh_from_db()
    assert "BadHeaderError" in alert.last_error
    assert AlertAttempt.objects.get(alert=alert).error == alert.last_error
    escalation = Alert.objects.get(kind=Alert.Kind.ALERT_ESCALATED)
    assert escalation.recipients == ["dm@example.org", "escalation@example.org"]
    assert escalation.key == f"escalated:{alert.key}"


def test_an_unexpected_error_ends_the_attempt_recorded_and_retries(participant, monkeypatch):
    alert = _row()

    def explode(self, fail_silently=False):
        raise RuntimeError("template engine exploded")

    monkeypatch.setattr(EmailMessage, "send", explode)
    with pytest.raises(alerts.TransientFailure):
        alerts.deliver(alert.pk)
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("pending", 1)
    assert "template engine exploded" in alert.last_error


def test_the_last_failed_retry_of_a_stopping_rule_alert_is_escalated(participant, monkeypatch):
    alert = _row(
        kind=Alert.Kind.STOPPING_RULE_TRIGGERED, key="stopping_rule_triggered:1", attempts=alerts.MAX_ATTEMPTS - 1
    )

    def down(self, fail_silently=False):
        raise OSError("connection refused")

    monkeypatch.setattr(EmailMessage, "send", down)
    assert alerts.deliver(alert.pk) == "failed"
    assert Alert.objects.filter(kind=Alert.Kind.ALERT_ESCALATED, key="escalated:stopping_rule_triggered:1").exists()


def test_a_safety_alert_with_no_recipients_is_escalated(participant):
    alert = _row(recipients=[])
    assert alerts.deliver(alert.pk) == "failed"
    assert Alert.objects.filter(kind=Alert.Kind.ALERT_ESCALATED).count() == 1


def test_a_phase_alert_that_fails_is_not_escalated(participant):
    alert = _row(kind=Alert.Kind.PHASE_CHANGED, key="phase_changed:9", recipients=[])
    assert alerts.deliver(alert.pk) == "failed"
    assert not Alert.objects.filter(kind=Alert.Kind.ALERT_ESCALATED).exists()


def test_the_banner_stays_on_pi_and_admin_pages_until_acknowledged(
    participant, pi, admin_user, coordinator, login, api
):
    alert = _row(status=Alert.Status.FAILED, last_error="550 mailbox unavailable")
    for user in (pi, admin_user):
        assert 'data-testid="undelivered-banner"' in login(user).get("/participants/").content.decode()
    assert 'data-testid="undelivered-banner"' not in login(coordinator).get("/participants/").content.decode()
    response = api(pi).post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    assert (response.status_code, response.json()["acknowledged_by"]) == (200, pi.username)
    alert.refresh_from_db()
    assert alert.acknowledged_by == pi and alert.acknowledged_at is not None
    assert 'data-testid="undelivered-banner"' not in login(admin_user).get("/participants/").content.decode()
    assert pi.username in login(admin_user).get("/alerts/").content.decode()


def test_acknowledging_twice_or_a_sent_alert_is_refused(participant, pi, api):
    sent = _row(key="k1", status=Alert.Status.SENT)
    assert api(pi).post(f"/api/v1/alerts/{sent.pk}/acknowledge/").status_code == 400
    failed = _row(key="k2", status=Alert.Status.FAILED)
    assert api(pi).post(f"/api/v1/alerts/{failed.pk}/acknowledge/").status_code == 200
    assert api(pi).post(f"/api/v1/alerts/{failed.pk}/acknowledge/").status_code == 400


def test_the_automatic_halt_sends_phase_changed(participant, sh01, coordinator):
    second = make_participant(site=sh01, user=coordinator)
    make_ae(participant=participant, user=coordinator, grade=5, related="possible")
    make_ae(participant=second, user=coordinator, grade=5, related="possible")
    halt = PhaseTransition.objects.get(to_phase="halted")
    assert Alert.objects.filter(kind="phase_changed", key=f"phase_changed:{halt.pk}").exists()


def test_the_recount_alerts_and_corrects_a_count_that_drifted(participant, sh01, coordinator):
    second = make_participant(site=sh01, user=coordinator)
    make_ae(participant=participant, user=coordinator, grade=5, related="possible")
    make_ae(
        participant=second,
        user=coordinator,
        grade=5,
        related="possible",
        onset_date=timezone.localdate() - timedelta(days=0),
    )
    assert get_study().phase == Study.Phase.HALTED
    Study.objects.filter(pk=1).update(treatment_related_grade5=0)  # something bypassed the services
    assert reconcile_stopping_rule() == {"stored": 0, "recount": 2}
    assert get_study().treatment_related_grade5 == 2
    assert Alert.objects.filter(kind=Alert.Kind.STOPPING_RULE_MISMATCH).count() == 1
    assert reconcile_stopping_rule() == {"stored": 2, "recount": 2}
    assert Alert.objects.filter(kind=Alert.Kind.STOPPING_RULE_MISMATCH).count() == 1


def test_a_drifted_count_at_the_threshold_halts_on_recount(participant, sh01, coordinator):
    second = make_participant(site=sh01, user=coordinator)
    make_ae(participant=participant, user=coordinator, grade=5, related="possible")
    Study.objects.filter(pk=1).update(treatment_related_grade5=0)
    from safety.models import AdverseEvent

    AdverseEvent.objects.create(  # a row written around the services: the recount must catch it
        participant=second,
        ctcae_term=AdverseEvent.objects.get().ctcae_term,
        term="Pneumonitis",
        soc="x",
        grade=5,
        onset_date=timezone.localdate(),
        outcome="fatal",
        death_date=timezone.localdate(),
        serious=True,
        seriousness_criteria=["death"],
        attribution_pd1="unrelated",
        attribution_chemo="possible",
        attribution_ldrt="unrelated",
        attribution_cfrt="unrelated",
        treatment_related=True,
        created_by=coordinator,
    )
    reconcile_stopping_rule()
    assert (get_study().treatment_related_grade5, get_study().phase) == (2, Study.Phase.HALTED)
