"""Rules that moved from the API into the AE service, so page and API share them: CTCAE term
resolution ("free text + SOC → that SOC's Other, specify"), the `ongoing` default, and the
answer "did this save halt the study"."""

import pytest
from django.core.exceptions import ValidationError

from safety.models import AdverseEvent
from safety.services import record_adverse_event, resolve_reported_term
from tests.factories import ae_data, make_ae, make_participant

GI = "Gastrointestinal disorders"


@pytest.fixture
def run_in(sh01, coordinator, study):
    return [make_participant(site=sh01, user=coordinator) for _ in range(2)]


def _service_data(**changes) -> dict:
    data = ae_data(**changes)
    del data["ctcae_term"], data["other_specify"]
    return data


def test_an_exact_ctcae_term_in_any_case_is_coded_as_itself(db):
    term, other = resolve_reported_term(term="  pneumonitis ")
    assert (term.term, other) == ("Pneumonitis", "")


def test_free_text_with_its_soc_is_recorded_under_that_socs_other_specify(db):
    term, other = resolve_reported_term(term="Stent migration", soc="gastrointestinal DISORDERS")
    assert (term.term, other) == (f"{GI} - Other, specify", "Stent migration")


def test_free_text_without_a_soc_is_a_field_error_on_term(db):
    with pytest.raises(ValidationError) as refusal:
        resolve_reported_term(term="Stent migration")
    assert list(refusal.value.message_dict) == ["term"]


def test_the_service_resolves_a_reported_term(run_in, coordinator):
    data = _service_data()
    data.update(term="Stent migration", soc=GI)
    ae = record_adverse_event(participant=run_in[0], data=data, user=coordinator)
    assert (ae.term, ae.soc, ae.ctcae_term.term) == ("Stent migration", GI, f"{GI} - Other, specify")


def test_a_refused_term_saves_nothing(run_in, coordinator):
    data = _service_data()
    data.update(term="Stent migration")
    with pytest.raises(ValidationError):
        record_adverse_event(participant=run_in[0], data=data, user=coordinator)
    assert AdverseEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "ongoing"),
    [({}, True), ({"end_date": "today"}, False)],
    ids=["no_end_date_is_ongoing", "an_end_date_is_not_ongoing"],
)
def test_ongoing_defaults_from_the_end_date_when_not_given(run_in, coordinator, changes, ongoing):
    data = ae_data()
    del data["ongoing"]
    if changes:
        data["end_date"] = data["onset_date"]
    ae = record_adverse_event(participant=run_in[0], data=data, user=coordinator)
    assert ae.ongoing is ongoing


def test_the_service_says_which_save_halted_the_study(run_in, coordinator):
    first = make_ae(participant=run_in[0], user=coordinator, grade=5, related="possible")
    second = make_ae(participant=run_in[1], user=coordinator, grade=5, related="probable")
    assert (first.halted_study, second.halted_study) == (False, True)
