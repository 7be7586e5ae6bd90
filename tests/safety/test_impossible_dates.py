"""Issue 16: clinical dates that cannot be true are refused, with the reason on the field, and
nothing is saved."""

from datetime import timedelta

import pytest
from django.utils import timezone

from safety.models import AdverseEvent
from scr_escc.selectors import get_study
from tests.factories import make_ae, make_participant
from tests.safety.ae_payloads import api_ae_payload, api_grade5_payload


def days(n: int):
    return (timezone.localdate() + timedelta(days=n)).isoformat()


@pytest.fixture
def participant(sh01, coordinator, study):
    return make_participant(site=sh01, user=coordinator)  # enrolled today


def _post(api, user, participant, payload):
    return api(user).post(f"/api/v1/participants/{participant.subject_id}/adverse-events/", payload, format="json")


def test_a_death_before_enrollment_is_refused_and_counts_nothing(participant, coordinator, api):
    response = _post(api, coordinator, participant, api_grade5_payload(onset_date=days(-1), death_date=days(-1)))
    assert response.status_code == 400
    assert "before enrollment" in response.json()["death_date"][0]
    participant.refresh_from_db()
    assert (AdverseEvent.objects.count(), participant.status, get_study().treatment_related_grade5) == (
        0,
        "on_study",
        0,
    )


def test_an_end_date_after_the_death_recorded_elsewhere_is_refused(sh01, coordinator, api, study):
    participant = make_participant(site=sh01, user=coordinator, enrollment_date=timezone.localdate() - timedelta(2))
    make_ae(
        participant=participant,
        user=coordinator,
        grade=5,
        onset_date=timezone.localdate() - timedelta(2),
        death_date=timezone.localdate() - timedelta(1),
    )
    payload = api_ae_payload(onset_date=days(-2), end_date=days(0), ongoing=False)
    response = _post(api, coordinator, participant, payload)
    assert response.status_code == 400
    assert "after the date of death" in response.json()["end_date"][0]
    assert AdverseEvent.objects.count() == 1


def test_serious_by_death_with_an_outcome_other_than_fatal_is_refused(participant, coordinator, api):
    payload = api_ae_payload(grade=4, serious=True, seriousness_criteria=["death"], outcome="not_recovered")
    response = _post(api, coordinator, participant, payload)
    assert response.status_code == 400
    assert "results in death" in " ".join(response.json()["outcome"])
    assert AdverseEvent.objects.count() == 0
