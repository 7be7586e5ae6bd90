"""Issue 16: every participant status is reachable (completion, a death recorded directly, e.g.
from progression) and a screening entered in error can be voided with a reason — each with
its dates checked, on page and API, nothing saved when refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from enrollment.models import Participant, Screening
from enrollment.services import record_death
from safety.services import void_adverse_event
from tests.factories import make_ae, make_participant, make_screening


def _today():
    """Today in the study's time zone, read when the test runs (a suite can cross midnight in Shanghai)."""
    return timezone.localdate()


@pytest.fixture
def participant(sh01, coordinator, study):
    return make_participant(site=sh01, user=coordinator, enrollment_date=_today() - timedelta(days=2))


def _status(participant) -> tuple:
    return (
        Participant.objects.filter(pk=participant.pk)
        .values_list("status", "death_date", "death_cause", "completion_date", "version")
        .get()
    )


def test_a_death_from_progression_is_recorded_on_the_page(participant, investigator, login):
    url = f"/participants/{participant.subject_id}/death/"
    response = login(investigator).post(url, {"death_date": _today().isoformat(), "death_cause": "Disease progression"})
    assert response.status_code == 302
    assert _status(participant)[:3] == ("deceased", _today(), "Disease progression")


def test_a_death_through_the_api_needs_a_cause_and_a_possible_date(participant, investigator, api):
    before = _status(participant)
    url = f"/api/v1/participants/{participant.subject_id}/death/"
    client = api(investigator)
    assert client.post(url, {"death_date": _today().isoformat(), "cause": " "}, format="json").status_code == 400
    early = client.post(url, {"death_date": (_today() - timedelta(days=3)).isoformat(), "cause": "x"}, format="json")
    assert early.status_code == 400 and "before enrollment" in early.json()["death_date"][0]
    future = client.post(url, {"death_date": (_today() + timedelta(days=1)).isoformat(), "cause": "x"}, format="json")
    assert future.status_code == 400
    assert _status(participant) == before
    done = client.post(url, {"death_date": _today().isoformat(), "cause": "Progression"}, format="json")
    assert (done.status_code, done.json()["status"], done.json()["death_cause"]) == (200, "deceased", "Progression")


def test_a_death_dated_before_an_aes_onset_is_refused(participant, coordinator, investigator, api):
    make_ae(participant=participant, user=coordinator, onset_date=_today())
    before = _status(participant)
    url = f"/api/v1/participants/{participant.subject_id}/death/"
    response = api(investigator).post(
        url, {"death_date": (_today() - timedelta(1)).isoformat(), "cause": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "started on" in response.json()["death_date"][0]
    assert _status(participant) == before


def test_a_death_recorded_directly_stays_when_a_grade5_ae_is_voided(participant, coordinator, investigator):
    record_death(participant=participant, death_date=_today(), cause="Progression", user=investigator)
    ae = make_ae(participant=participant, user=coordinator, grade=5, onset_date=_today(), death_date=_today())
    void_adverse_event(ae=ae, user=coordinator, reason="Entered twice")
    assert _status(participant)[:2] == ("deceased", _today())


def test_completion_on_the_api_then_no_withdrawal(participant, coordinator, api):
    url = f"/api/v1/participants/{participant.subject_id}/complete/"
    response = api(coordinator).post(url, {"completion_date": _today().isoformat()}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "completed")
    before = _status(participant)
    withdraw = f"/api/v1/participants/{participant.subject_id}/withdraw/"
    body = {"withdrawal_date": _today().isoformat(), "withdrawal_reason": "x"}
    assert api(coordinator).post(withdraw, body, format="json").status_code == 400
    assert _status(participant) == before


def test_the_participant_page_offers_completion_withdrawal_and_death_while_on_study(participant, investigator, login):
    page = login(investigator).get(f"/participants/{participant.subject_id}/").content.decode()
    for url in ("complete", "withdraw", "death"):
        assert f"/participants/{participant.subject_id}/{url}/" in page


def test_a_screening_entered_in_error_is_voided_with_a_reason(sh01, coordinator, login, api, study):
    screening = make_screening(site=sh01, user=coordinator)
    assert (
        api(coordinator).post(f"/api/v1/screenings/{screening.pk}/void/", {"reason": ""}, format="json").status_code
        == 400
    )
    response = login(coordinator).post(f"/screenings/{screening.pk}/void/", {"reason": "Wrong patient"})
    assert response.status_code == 302
    screening.refresh_from_db()
    assert (screening.voided, screening.void_reason) == (True, "Wrong patient")
    enroll = api(coordinator).post(f"/api/v1/screenings/{screening.pk}/enroll/")
    assert enroll.status_code == 409 and Participant.objects.count() == 0


def test_an_enrolled_screening_cannot_be_voided(participant, coordinator, api):
    screening = participant.screening
    response = api(coordinator).post(f"/api/v1/screenings/{screening.pk}/void/", {"reason": "x"}, format="json")
    assert response.status_code == 400
    assert "withdraw the participant" in response.json()["reason"][0]
    assert Screening.objects.get(pk=screening.pk).voided is False
