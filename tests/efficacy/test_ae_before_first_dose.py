"""An AE that began before an intervention's first dose cannot be attributed possible, probable or
definite to it — by the service, the AE page and the API — and a dose recorded later than a
related AE's onset is refused (the reverse rule, efficacy.treatment)."""

import pytest
from django.core.exceptions import ValidationError

from efficacy.models import SystemicDose
from efficacy.treatment import record_cycle, record_dose, void_dose
from safety.models import AdverseEvent
from safety.services import record_adverse_event
from tests.efficacy.conftest import ago, cycle_doses, dose_row
from tests.factories import ae_data
from tests.safety.ae_payloads import ATTRIBUTIONS, api_ae_payload

FIRST_DOSE = 10  # days ago


@pytest.fixture
def treated(run_in, coordinator):
    """The run-in participant (enrolled 60 days ago) with cycle 1 given 10 days ago."""
    record_cycle(participant=run_in, cycle=1, doses=cycle_doses(ago(FIRST_DOSE)), user=coordinator)
    return run_in


def _ae(participant, user, onset_days_ago: int, pd1: str):
    return record_adverse_event(
        participant=participant, data=ae_data(onset_date=ago(onset_days_ago), attribution_pd1=pd1), user=user
    )


def _page_post(onset_days_ago: int, pd1: str) -> dict:
    data = {
        "ctcae_term": "Pneumonitis",
        "other_specify": "",
        "grade": "2",
        "onset_date": ago(onset_days_ago).isoformat(),
        "end_date": "",
        "ongoing": "on",
        "serious": "False",
        "action_taken": "none",
        "outcome": "not_recovered",
        "death_date": "",
    }
    for name in ATTRIBUTIONS:
        data[f"attribution_{name}"] = "unrelated"
    data["attribution_pd1"] = pd1
    return data


def test_ae_before_first_dose_probable_to_pd1_is_refused_on_attribution_pd1(treated, coordinator):
    with pytest.raises(ValidationError) as refusal:
        _ae(treated, coordinator, onset_days_ago=15, pd1="probable")
    assert (list(refusal.value.message_dict), AdverseEvent.objects.count()) == (["attribution_pd1"], 0)


def test_ae_before_first_dose_refused_on_the_page_with_the_reason_on_attribution_pd1(treated, coordinator, login):
    response = login(coordinator).post(
        f"/participants/{treated.subject_id}/adverse-events/new/", _page_post(15, "probable")
    )
    errors = response.context["form"].errors
    assert (response.status_code, list(errors), AdverseEvent.objects.count()) == (200, ["attribution_pd1"], 0)
    assert "before the first dose" in errors["attribution_pd1"][0]


def test_ae_before_first_dose_refused_by_the_api_with_400_on_the_pd1_attribution(treated, coordinator, api):
    payload = api_ae_payload(
        onset_date=ago(15).isoformat(),
        attribution={"pd1": "probable", "chemo": "unrelated", "ldrt": "unrelated", "cfrt": "unrelated"},
    )
    response = api(coordinator).post(
        f"/api/v1/participants/{treated.subject_id}/adverse-events/", payload, format="json"
    )
    assert (response.status_code, list(response.json()), AdverseEvent.objects.count()) == (400, ["attribution"], 0)
    assert list(response.json()["attribution"]) == ["pd1"]
    assert "before the first dose" in response.json()["attribution"]["pd1"][0]


def test_ae_before_first_dose_unrelated_is_accepted(treated, coordinator):
    ae = _ae(treated, coordinator, onset_days_ago=15, pd1="unrelated")
    assert AdverseEvent.objects.get().pk == ae.pk


def test_ae_before_first_dose_unrelated_is_accepted_by_the_page(treated, coordinator, login):
    response = login(coordinator).post(
        f"/participants/{treated.subject_id}/adverse-events/new/", _page_post(15, "unrelated")
    )
    assert (response.status_code, AdverseEvent.objects.count()) == (302, 1)


@pytest.mark.parametrize("onset", [FIRST_DOSE, FIRST_DOSE - 3], ids=["on_first_dose_day", "after_first_dose"])
def test_ae_on_or_after_first_dose_may_be_related(treated, coordinator, onset):
    ae = _ae(treated, coordinator, onset_days_ago=onset, pd1="probable")
    assert AdverseEvent.objects.get().attribution_pd1 == "probable" and ae.treatment_related


def test_ae_before_any_dose_recorded_may_still_be_related(run_in, coordinator):
    ae = _ae(run_in, coordinator, onset_days_ago=15, pd1="possible")
    assert ae.attribution_pd1 == "possible"


def test_a_cycle_dated_after_a_related_aes_onset_is_refused(run_in, coordinator):
    _ae(run_in, coordinator, onset_days_ago=15, pd1="probable")
    with pytest.raises(ValidationError) as refusal:
        record_cycle(participant=run_in, cycle=1, doses=cycle_doses(ago(FIRST_DOSE)), user=coordinator)
    assert (list(refusal.value.message_dict), SystemicDose.objects.count()) == (["pd1__administered_on"], 0)


def test_a_dose_dated_after_a_related_aes_onset_is_refused(run_in, coordinator):
    _ae(run_in, coordinator, onset_days_ago=15, pd1="definite")
    data = {"cycle": 1, "agent": "pd1", **dose_row(ago(FIRST_DOSE))}
    with pytest.raises(ValidationError) as refusal:
        record_dose(participant=run_in, data=data, user=coordinator)
    assert (list(refusal.value.message_dict), SystemicDose.objects.count()) == (["administered_on"], 0)


def test_a_dose_dated_before_a_related_aes_onset_is_accepted(run_in, coordinator):
    _ae(run_in, coordinator, onset_days_ago=15, pd1="probable")
    dose = record_dose(participant=run_in, data={"cycle": 1, "agent": "pd1", **dose_row(ago(20))}, user=coordinator)
    assert dose.pk is not None


def test_voiding_the_first_dose_that_a_related_ae_follows_is_refused(run_in, coordinator):
    first = record_dose(participant=run_in, data={"cycle": 1, "agent": "pd1", **dose_row(ago(20))}, user=coordinator)
    record_dose(participant=run_in, data={"cycle": 2, "agent": "pd1", **dose_row(ago(5))}, user=coordinator)
    _ae(run_in, coordinator, onset_days_ago=15, pd1="probable")
    with pytest.raises(ValidationError):
        void_dose(dose=first, user=coordinator, reason="Entered twice")
    first.refresh_from_db()
    assert (first.voided, first.version) == (False, 1)
