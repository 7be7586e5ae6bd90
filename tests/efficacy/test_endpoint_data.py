"""From the stored records to each participant's PFS and OS (efficacy.endpoint_data): the same
censoring rules as the pure tests, through real records. Run-in participants start at enrollment."""

from decimal import Decimal

import pytest

from efficacy.assessments import record_baseline, record_follow_up
from efficacy.endpoint_data import endpoint_rows
from efficacy.followup import record_clinical_progression, record_contact, record_new_therapy
from enrollment.services import record_death
from tests.efficacy.conftest import ago, enrolled, three_targets

pytestmark = pytest.mark.django_db


def _scan(participant, user, days_ago, sizes=(30, 20, 10), new_lesion="no"):
    data = {
        "assessment_date": ago(days_ago),
        "method": "ct",
        "new_lesion": new_lesion,
        "new_lesion_description": "liver" if new_lesion == "yes" else "",
        "investigator_response": "SD",
        "comments": "",
    }
    targets = {f"T{i + 1}": Decimal(s) if s is not None else None for i, s in enumerate(sizes)}
    record_follow_up(participant=participant, data=data, targets=targets, non_targets={}, user=user)


@pytest.fixture
def patient(sh01, coordinator, study):
    """Enrolled 300 days ago (day 1), baseline the day before."""
    participant = enrolled(site=sh01, user=coordinator, days_ago=300)
    baseline = {"assessment_date": ago(301), "method": "ct", "comments": ""}
    record_baseline(participant=participant, data=baseline, targets=three_targets(), non_targets=[], user=coordinator)
    return participant


def _row(participant):
    [row] = [r for r in endpoint_rows(cohort="run_in") if r.subject_id == participant.subject_id]
    return row


def test_a_recist_pd_is_the_event_on_its_scan_date(patient, coordinator):
    _scan(patient, coordinator, 258)  # day 43
    _scan(patient, coordinator, 216, new_lesion="yes")  # day 85: PD
    assert (_row(patient).pfs.days, _row(patient).pfs.event, _row(patient).pfs.rule) == (85, True, "pd")


def test_a_clinical_progression_before_the_scan_is_the_event(patient, coordinator):
    _scan(patient, coordinator, 258)  # day 43
    record_clinical_progression(
        participant=patient, data={"progression_date": ago(230), "reason": "Dysphagia, stent"}, user=coordinator
    )  # day 71
    assert (_row(patient).pfs.days, _row(patient).pfs.rule) == (71, "clinical_pd")


def test_new_therapy_before_progression_censors_at_the_last_adequate_scan(patient, coordinator):
    _scan(patient, coordinator, 258)  # day 43, adequate
    record_new_therapy(
        participant=patient,
        data={"start_date": ago(240), "kind": "systemic", "therapy": "irinotecan"},
        user=coordinator,
    )  # day 61
    _scan(patient, coordinator, 216, new_lesion="yes")  # day 85: PD after the new therapy
    pfs = _row(patient).pfs
    assert (pfs.days, pfs.event, pfs.rule) == (43, False, "new_therapy")


def test_progression_after_two_missed_scans_censors_at_the_last_adequate_scan(patient, coordinator):
    _scan(patient, coordinator, 258)  # day 43; days 85 and 127 missed
    _scan(patient, coordinator, 150, new_lesion="yes")  # day 151: 108 days after day 43 > 91
    pfs = _row(patient).pfs
    assert (pfs.days, pfs.event, pfs.rule) == (43, False, "missed_two")


def test_no_adequate_assessment_censors_at_day_1(patient, coordinator):
    _scan(patient, coordinator, 258, sizes=(30, None, 10))  # a target not assessed: NE
    pfs = _row(patient).pfs
    assert (pfs.days, pfs.event, pfs.rule) == (1, False, "no_adequate_assessment")


def test_overall_survival_is_censored_at_the_last_contact_and_ends_at_death(patient, coordinator, investigator):
    _scan(patient, coordinator, 258)
    record_contact(
        participant=patient, data={"contact_date": ago(100), "method": "phone", "notes": ""}, user=coordinator
    )
    assert (_row(patient).os.days, _row(patient).os.event) == (201, False)  # day 201: the contact
    record_death(participant=patient, death_date=ago(50), cause="Progression", user=investigator)
    assert (_row(patient).os.days, _row(patient).os.event) == (251, True)
