"""Issue 22, reminders: each day every site with queries open for N days or more gets one e-mail
listing them (a digest, never one mail per query), sent to its active coordinators and
investigators; a second run the same day sends nothing more."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring import sdv
from monitoring.digest import send_query_digests
from monitoring.models import Query
from monitoring.queries import answer_query, raise_query
from monitoring.tasks import daily_monitoring
from scr_escc.models import Alert
from tests.factories import UserFactory


def _age(query: Query, days: int) -> Query:
    """As if raised `days` days ago."""
    Query.objects.filter(pk=query.pk).update(raised_at=timezone.now() - timedelta(days=days))
    query.refresh_from_db()
    return query


@pytest.fixture
def sh01_queries(ae, participant, monitor, coordinator):
    """At SH01: open for 8 days, open for 2 days, answered after being open for 10 days."""
    old = _age(raise_query(user=monitor, record=ae, field="grade", text="Grade 3?"), 8)
    recent = _age(raise_query(user=monitor, record=participant, field="enrollment_date", text="Date?"), 2)
    answered = raise_query(user=monitor, record=participant.screening, field="ecog", text="ECOG?")
    answer_query(query=answered, user=coordinator, text="ECOG 1 is right")
    return {"old": old, "recent": recent, "answered": _age(answered, 10)}


@pytest.fixture
def sh02_recent(participant_sh02, monitor):
    return _age(raise_query(user=monitor, record=participant_sh02, field="enrollment_date", text="Date?"), 1)


def _digests():
    return list(Alert.objects.filter(kind=Alert.Kind.QUERY_DIGEST).order_by("key"))


def test_one_digest_per_site_lists_only_its_queries_open_for_n_days(
    sh01_queries, sh02_recent, investigator, coordinator_sh02, sh01
):
    UserFactory(username="coord_gone", role="coordinator", sites=[sh01], is_active=False)
    UserFactory(username="coord_no_mail", role="coordinator", sites=[sh01], email="")
    UserFactory(username="monitor_at_sh01", role="monitor", sites=[sh01])
    assert send_query_digests() == 1
    (alert,) = _digests()
    today = timezone.localdate().isoformat()
    assert (alert.key, alert.status) == (f"query_digest:SH01:{today}", "pending")
    assert alert.recipients == ["coord1@example.org", "inv1@example.org"]
    assert alert.subject == "[SCR-ESCC-01] SH01: 1 data query open for 7 days or more"
    old = sh01_queries["old"]
    assert f"Q-{old.pk} · {old.participant.subject_id} · Adverse event #{old.record_id} · CTCAE grade · 8 days" in (
        alert.body
    )
    assert f"Q-{sh01_queries['recent'].pk}" not in alert.body
    assert f"Q-{sh01_queries['answered'].pk}" not in alert.body
    assert alert.link == "/monitoring/queries/?site=SH01&status=open&older_than=7"


def test_a_second_run_the_same_day_queues_nothing(sh01_queries, investigator):
    assert send_query_digests() == 1
    assert send_query_digests() == 0
    assert len(_digests()) == 1


def test_a_site_without_old_open_queries_gets_nothing(sh02_recent, investigator_sh02):
    assert send_query_digests() == 0
    assert not _digests()


def test_the_number_of_days_is_the_monitoring_plans(sh01_queries, sh02_recent, admin_user, investigator_sh02):
    sdv.update_settings(user=admin_user, levels_by_type={}, query_digest_days=1, reason="Weekly visits")
    assert send_query_digests() == 2
    sh01, sh02 = _digests()
    assert sh01.subject == "[SCR-ESCC-01] SH01: 2 data queries open for 1 days or more"
    assert sh02.recipients == ["coord2@example.org", "inv2@example.org"]


def test_a_reopened_query_counts_from_when_it_was_raised(sh01_queries, admin_user):
    from monitoring.queries import reopen_query

    answered = sh01_queries["answered"]
    reopen_query(query=answered, user=admin_user, text="ECOG on the source is 2")
    send_query_digests()
    (alert,) = _digests()
    assert f"Q-{answered.pk}" in alert.body and alert.subject.startswith("[SCR-ESCC-01] SH01: 2 data queries")


def test_a_site_whose_staff_have_no_address_gets_nothing(ae, monitor, coordinator):
    coordinator.email = ""
    coordinator.save()
    _age(raise_query(user=monitor, record=ae, field="grade", text="Grade?"), 8)
    assert send_query_digests() == 0
    assert not _digests()


def test_a_long_list_is_cut_and_counted(participant, coordinator, monitor):
    for day in range(53):
        _age(raise_query(user=monitor, record=participant, field="enrollment_date", text=f"Question {day}"), 8 + day)
    send_query_digests()
    (alert,) = _digests()
    assert alert.body.count("\nQ-") == 50
    assert "\n… and 3 more.\n" in alert.body


def test_the_daily_task_raises_automatic_queries_then_sends_the_digests(sh01_queries, coordinator):
    assert daily_monitoring.apply().get() == {"raised": 0, "digests": 1}


@pytest.mark.worker
def test_the_digest_mail_is_delivered_by_a_real_worker(celery_worker_process, smtp_sink, ae, monitor, coordinator):
    old = _age(raise_query(user=monitor, record=ae, field="grade", text="Grade 3 on the CT report?"), 9)
    daily_monitoring.delay()  # the worker runs the day's monitoring, then delivers what it queued
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not Alert.objects.filter(kind="query_digest", status="sent").exists():
        time.sleep(0.1)
    alert = Alert.objects.get(kind="query_digest")
    assert alert.status == "sent"
    assert smtp_sink.subjects() == ["[SCR-ESCC-01] SH01: 1 data query open for 7 days or more"]
    assert smtp_sink.envelopes == [["coord1@example.org"]]
    body = smtp_sink.messages[0].get_payload(decode=True).decode()
    assert f"Q-{old.pk}" in body and "Grade 3 on the CT report?" in body
