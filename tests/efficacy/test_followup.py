"""Clinical progression, survival follow-up and the death check (efficacy.followup), and the
progression and last-known-alive dates read from the records (efficacy.selectors)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from efficacy.assessments import record_baseline, record_follow_up
from efficacy.followup import record_clinical_progression, record_contact, record_new_therapy, update_simple
from efficacy.models import ClinicalProgression, FollowUpContact
from efficacy.selectors import efficacy_summary, progression_of
from efficacy.treatment import record_cycle
from enrollment.models import Participant
from enrollment.services import record_death
from tests.efficacy.conftest import ago, cycle_doses, three_targets


def _refused(call) -> dict:
    with pytest.raises(ValidationError) as refusal:
        call()
    return refusal.value.message_dict


def _progression(participant, user, days_ago, reason="New bone pain with fracture"):
    return record_clinical_progression(
        participant=participant, data={"progression_date": ago(days_ago), "reason": reason}, user=user
    )


def _contact(participant, user, days_ago):
    data = {"contact_date": ago(days_ago), "method": "phone", "notes": ""}
    return record_contact(participant=participant, data=data, user=user)


def _pd_scan(participant, user, days_ago):
    """A baseline 62 days ago, then a scan scored PD (a new lesion) `days_ago` days ago."""
    data = {"assessment_date": ago(62), "method": "ct", "comments": ""}
    record_baseline(participant=participant, data=data, targets=three_targets(), non_targets=[], user=user)
    scan = {
        "assessment_date": ago(days_ago),
        "method": "ct",
        "new_lesion": "yes",
        "new_lesion_description": "Liver",
        "investigator_response": "PD",
        "comments": "",
    }
    targets = {"T1": Decimal(30), "T2": Decimal(20), "T3": Decimal(10)}
    return record_follow_up(participant=participant, data=scan, targets=targets, non_targets={}, user=user)


def _unchanged(participant) -> tuple:
    stored = Participant.objects.get(pk=participant.pk)
    return (stored.status, stored.death_date, stored.version)


def test_a_clinical_progression_is_recorded_with_its_date_and_reason(run_in, coordinator):
    _progression(run_in, coordinator, 5)
    stored = ClinicalProgression.objects.get()
    assert (stored.progression_date, stored.reason) == (ago(5), "New bone pain with fracture")


def test_a_clinical_progression_needs_its_reason(run_in, coordinator):
    errors = _refused(lambda: _progression(run_in, coordinator, 5, reason="  "))
    assert (list(errors), ClinicalProgression.objects.count()) == (["reason"], 0)


@pytest.mark.parametrize("days_ago", [61, -1], ids=["before_enrollment", "in_the_future"])
def test_a_clinical_progression_is_dated_on_study_and_not_in_the_future(run_in, coordinator, days_ago):
    errors = _refused(lambda: _progression(run_in, coordinator, days_ago))
    assert (list(errors), ClinicalProgression.objects.count()) == (["progression_date"], 0)


def test_a_corrected_progression_date_must_still_be_on_study(run_in, coordinator):
    record = _progression(run_in, coordinator, 5)
    errors = _refused(
        lambda: update_simple(record=record, data={"progression_date": ago(70)}, user=coordinator, reason="Typo")
    )
    record.refresh_from_db()
    assert (list(errors), record.progression_date, record.version) == (["progression_date"], ago(5), 1)


def test_progression_is_the_clinical_one_when_earlier_than_the_first_pd(run_in, coordinator):
    _pd_scan(run_in, coordinator, 4)
    _progression(run_in, coordinator, 10)
    found = progression_of(run_in)
    assert (found.date, found.source) == (ago(10), "clinical")


def test_progression_is_the_first_pd_when_earlier_than_the_clinical_one(run_in, coordinator):
    _pd_scan(run_in, coordinator, 4)
    _progression(run_in, coordinator, 2)
    summary = efficacy_summary(run_in)
    assert (summary.progression.date, summary.progression.source) == (ago(4), "recist")


def test_a_voided_clinical_progression_is_no_progression(run_in, coordinator):
    from efficacy.followup import void_simple

    record = _progression(run_in, coordinator, 5)
    void_simple(record=record, user=coordinator, reason="Wrong participant")
    assert progression_of(run_in) is None


def test_last_known_alive_is_the_latest_record(run_in, coordinator):
    record_cycle(participant=run_in, cycle=1, doses=cycle_doses(ago(20)), user=coordinator)
    _contact(run_in, coordinator, 3)
    assert efficacy_summary(run_in).last_known_alive == ago(3)


def test_last_known_alive_without_records_is_the_enrollment_date(run_in):
    assert efficacy_summary(run_in).last_known_alive == ago(60)


def test_a_contact_cannot_be_dated_after_the_death(run_in, coordinator, investigator):
    record_death(participant=run_in, death_date=ago(10), cause="Progression", user=investigator)
    errors = _refused(lambda: _contact(run_in, coordinator, 5))
    assert (list(errors), FollowUpContact.objects.count()) == (["contact_date"], 0)


def test_only_an_investigator_records_a_death_directly(run_in, coordinator):
    with pytest.raises(PermissionDenied):
        record_death(participant=run_in, death_date=ago(10), cause="Progression", user=coordinator)
    assert _unchanged(run_in) == ("on_study", None, 1)


def test_a_death_cannot_be_dated_before_a_dose(run_in, coordinator, investigator):
    record_cycle(participant=run_in, cycle=1, doses=cycle_doses(ago(5)), user=coordinator)
    errors = _refused(lambda: record_death(participant=run_in, death_date=ago(10), cause="PD", user=investigator))
    assert (list(errors), _unchanged(run_in)) == (["death_date"], ("on_study", None, 1))


def test_a_death_cannot_be_dated_before_a_scan(run_in, coordinator, investigator):
    _pd_scan(run_in, coordinator, 4)
    errors = _refused(lambda: record_death(participant=run_in, death_date=ago(10), cause="PD", user=investigator))
    assert (list(errors), _unchanged(run_in)) == (["death_date"], ("on_study", None, 1))


def test_a_death_cannot_be_dated_before_a_contact(run_in, coordinator, investigator):
    _contact(run_in, coordinator, 3)
    errors = _refused(lambda: record_death(participant=run_in, death_date=ago(10), cause="PD", user=investigator))
    assert (list(errors), _unchanged(run_in)) == (["death_date"], ("on_study", None, 1))


def test_a_death_cannot_be_dated_before_a_clinical_progression(run_in, coordinator, investigator):
    _progression(run_in, coordinator, 3)
    errors = _refused(lambda: record_death(participant=run_in, death_date=ago(10), cause="PD", user=investigator))
    assert (list(errors), _unchanged(run_in)) == (["death_date"], ("on_study", None, 1))


def test_a_death_cannot_be_dated_before_a_new_anticancer_therapy(run_in, coordinator, investigator):
    data = {"start_date": ago(3), "kind": "systemic", "therapy": "Irinotecan"}
    record_new_therapy(participant=run_in, data=data, user=coordinator)
    errors = _refused(lambda: record_death(participant=run_in, death_date=ago(10), cause="PD", user=investigator))
    assert (list(errors), _unchanged(run_in)) == (["death_date"], ("on_study", None, 1))


def test_a_death_on_the_day_of_the_last_contact_is_recorded(run_in, coordinator, investigator):
    _contact(run_in, coordinator, 3)
    record_death(participant=run_in, death_date=ago(3), cause="Progression", user=investigator)
    assert _unchanged(run_in)[:2] == ("deceased", ago(3))


def test_a_grade5_ae_cannot_date_the_death_before_a_dose(run_in, coordinator):
    from safety.models import AdverseEvent
    from safety.services import record_adverse_event
    from tests.factories import ae_data

    record_cycle(participant=run_in, cycle=1, doses=cycle_doses(ago(5)), user=coordinator)
    data = ae_data(grade=5, onset_date=ago(12), death_date=ago(10))
    errors = _refused(lambda: record_adverse_event(participant=run_in, data=data, user=coordinator))
    assert (list(errors), _unchanged(run_in)) == (["death_date"], ("on_study", None, 1))
    assert not AdverseEvent.objects.filter(participant=run_in).exists()


def test_a_clinical_progression_before_randomization_is_refused(randomized, coordinator):
    # PFS starts at randomization: a progression dated before it would give a negative PFS.
    participant = randomized("A")
    data = {"progression_date": ago(1), "reason": "Dysphagia"}  # enrolled 10 days ago, randomized today
    errors = _refused(lambda: record_clinical_progression(participant=participant, data=data, user=coordinator))
    assert list(errors) == ["progression_date"]
    assert not ClinicalProgression.objects.filter(participant=participant).exists()


def test_a_new_therapy_before_randomization_is_refused(randomized, coordinator):
    participant = randomized("B")
    data = {"start_date": ago(1), "kind": "systemic", "therapy": "irinotecan"}
    errors = _refused(lambda: record_new_therapy(participant=participant, data=data, user=coordinator))
    assert list(errors) == ["start_date"]
