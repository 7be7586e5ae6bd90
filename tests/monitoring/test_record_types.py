"""A record's few words on the SDV and query pages: enough to find it in the hospital file."""

from django.utils.translation import override

from efficacy.assessments import record_baseline
from efficacy.treatment import record_cycle
from monitoring.record_types import summary
from tests.efficacy.conftest import ago, cycle_doses, three_targets


def test_an_ae_is_named_by_its_term_grade_and_onset(ae):
    assert summary(ae) == f"Pneumonitis, grade 2, onset {ae.onset_date.isoformat()}"


def test_a_dose_by_its_cycle_agent_and_day_and_a_baseline_scan_as_such(participant, coordinator):
    doses = record_cycle(participant=participant, cycle=1, doses=cycle_doses(ago(10)), user=coordinator)
    pd1 = next(d for d in doses if d.agent == "pd1")
    assert summary(pd1) == f"cycle 1, PD-1 inhibitor, {ago(10).isoformat()}"
    baseline = record_baseline(
        participant=participant,
        data={"assessment_date": ago(20), "method": "ct"},
        targets=three_targets(),
        non_targets=[],
        user=coordinator,
    )
    assert summary(baseline) == f"baseline, {ago(20).isoformat()}"
    with override("zh-hans"):
        assert summary(baseline) == f"基线，{ago(20).isoformat()}"


def test_a_participant_and_a_screening_by_their_numbers(participant):
    assert (summary(participant), summary(participant.screening)) == (
        participant.subject_id,
        participant.screening.screening_number,
    )
