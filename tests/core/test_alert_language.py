"""Alert emails in each recipient's language (issue 21): a stopping-rule alert to a PI who reads
Chinese arrives in Chinese, to an English data manager in English; one message per language
group, never a group twice on a retry; the study's default for users without a language and for
the safety contacts (addresses that are no user's)."""

import re
import smtplib

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone

from scr_escc.alerts import TransientFailure, deliver
from scr_escc.models import Alert, AlertAttempt, Study
from tests.factories import UserFactory, make_ae, make_participant

CJK = re.compile(r"[\u4e00-\u9fff]")
STOPPING_RULE_ZH = "终止规则"  # the glossary's "stopping rule"


@pytest.fixture
def readers(pi, admin_user, study):
    """PI reads Chinese; the data manager chose English; a second data manager chose nothing;
    the DSMB is a safety contact (no user)."""
    pi.language = "zh-hans"
    pi.save(update_fields=["language"])
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    UserFactory(username="datamanager2", role="admin", email="dm2@example.org")
    Study.objects.filter(pk=study.pk).update(safety_contact_emails="dsmb@example.org")


def _set_default_language(language: str) -> None:
    Study.objects.filter(pk=1).update(default_language=language)


def _trigger_stopping_rule(sh01, coordinator) -> Alert:
    """The second treatment-related run-in Grade 5 death: the study halts and alerts."""
    for term, related in (("Sepsis", "possible"), ("Pneumonitis", "probable")):
        participant = make_participant(site=sh01, user=coordinator)
        make_ae(participant=participant, user=coordinator, grade=5, related=related, term=term)
    return Alert.objects.get(kind=Alert.Kind.STOPPING_RULE_TRIGGERED)


def _by_recipients() -> dict[tuple[str, ...], EmailMessage]:
    return {tuple(sorted(message.to)): message for message in mail.outbox}


def test_the_stopping_rule_alert_reaches_each_reader_in_their_language(readers, sh01, coordinator):
    alert = _trigger_stopping_rule(sh01, coordinator)
    assert deliver(alert.pk) == Alert.Status.SENT
    messages = _by_recipients()
    # One message per language group: the study default (English) covers dm2 and the DSMB.
    assert set(messages) == {("pi@example.org",), ("dm2@example.org", "dm@example.org", "dsmb@example.org")}
    chinese = messages[("pi@example.org",)]
    assert STOPPING_RULE_ZH in chinese.subject and "研究已暂停" in chinese.subject
    assert STOPPING_RULE_ZH in chinese.body and "受试者" in chinese.body
    assert "STOPPING RULE" not in chinese.subject and "Open:" not in chinese.body
    assert "Pneumonitis" in chinese.body  # CTCAE terms stay in English
    english = messages[("dm2@example.org", "dm@example.org", "dsmb@example.org")]
    assert "STOPPING RULE TRIGGERED" in english.subject and "stopping rule" in english.body
    assert not CJK.search(english.subject + english.body)
    assert english.subject == Alert.objects.get(pk=alert.pk).subject  # the row shows the study default


def test_a_chinese_study_default_applies_to_users_without_a_language_and_to_safety_contacts(readers, sh01, coordinator):
    _set_default_language("zh-hans")
    alert = _trigger_stopping_rule(sh01, coordinator)
    assert STOPPING_RULE_ZH in alert.subject  # the row's own text is the study default's
    deliver(alert.pk)
    messages = _by_recipients()
    assert set(messages) == {("dm@example.org",), ("dm2@example.org", "dsmb@example.org", "pi@example.org")}
    assert STOPPING_RULE_ZH in messages[("dm2@example.org", "dsmb@example.org", "pi@example.org")].subject
    assert "STOPPING RULE TRIGGERED" in messages[("dm@example.org",)].subject


def _fail_once_for(monkeypatch, address: str, error: Exception) -> None:
    """The mail server refuses the first message that goes to `address`."""
    send = EmailMessage.send
    failed = []

    def flaky(message, fail_silently=False):
        if address in message.to and not failed:
            failed.append(address)
            raise error
        return send(message, fail_silently=fail_silently)

    monkeypatch.setattr(EmailMessage, "send", flaky)


def test_a_retry_sends_only_the_language_group_not_yet_accepted(readers, sh01, coordinator, monkeypatch):
    alert = _trigger_stopping_rule(sh01, coordinator)
    _fail_once_for(monkeypatch, "pi@example.org", smtplib.SMTPServerDisconnected("connection lost"))
    with pytest.raises(TransientFailure):
        deliver(alert.pk)
    row = Alert.objects.get(pk=alert.pk)
    assert row.status == Alert.Status.PENDING and "[zh-hans]" in row.last_error
    assert [m.to for m in mail.outbox] == [["dm2@example.org", "dm@example.org", "dsmb@example.org"]]

    Alert.objects.filter(pk=alert.pk).update(next_attempt_at=timezone.now())
    assert deliver(alert.pk) == Alert.Status.SENT
    assert deliver(alert.pk) == Alert.Status.SENT  # a late duplicate task sends nothing
    recipients = [address for message in mail.outbox for address in message.to]
    assert sorted(recipients) == ["dm2@example.org", "dm@example.org", "dsmb@example.org", "pi@example.org"]
    assert STOPPING_RULE_ZH in mail.outbox[-1].subject
    assert all(group["sent_at"] for group in Alert.objects.get(pk=alert.pk).deliveries)
    assert AlertAttempt.objects.filter(alert=alert).count() == 2


def test_the_groups_are_fixed_at_the_first_attempt(readers, sh01, coordinator, monkeypatch, pi):
    alert = _trigger_stopping_rule(sh01, coordinator)
    _fail_once_for(monkeypatch, "pi@example.org", smtplib.SMTPServerDisconnected("connection lost"))
    with pytest.raises(TransientFailure):
        deliver(alert.pk)
    pi.language = "en"  # changed between the attempts: the PI still gets exactly one message
    pi.save(update_fields=["language"])
    Alert.objects.filter(pk=alert.pk).update(next_attempt_at=timezone.now())
    deliver(alert.pk)
    assert [address for message in mail.outbox for address in message.to].count("pi@example.org") == 1


def test_a_group_refused_for_good_fails_and_escalates_but_the_others_are_sent(readers, sh01, coordinator, monkeypatch):
    alert = _trigger_stopping_rule(sh01, coordinator)
    _fail_once_for(monkeypatch, "dm@example.org", smtplib.SMTPDataError(554, b"rejected"))
    assert deliver(alert.pk) == Alert.Status.FAILED
    row = Alert.objects.get(pk=alert.pk)
    assert "[en] 554" in row.last_error and "delivered: zh-hans" in row.last_error
    assert [m.to for m in mail.outbox] == [["pi@example.org"]]
    escalation = Alert.objects.get(kind=Alert.Kind.ALERT_ESCALATED)
    assert escalation.subject.startswith("[SCR-ESCC-01] UNDELIVERED safety alert")
    assert STOPPING_RULE_ZH in escalation.renderings["zh-hans"]["body"]


def test_chinese_arrives_intact_through_a_real_mail_server(readers, sh01, coordinator, smtp_sink, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    alert = _trigger_stopping_rule(sh01, coordinator)
    assert deliver(alert.pk) == Alert.Status.SENT
    assert sorted(map(sorted, smtp_sink.envelopes)) == [
        ["dm2@example.org", "dm@example.org", "dsmb@example.org"],
        ["pi@example.org"],
    ]
    subjects = smtp_sink.subjects()
    assert any(STOPPING_RULE_ZH in s for s in subjects) and any("STOPPING RULE TRIGGERED" in s for s in subjects)
