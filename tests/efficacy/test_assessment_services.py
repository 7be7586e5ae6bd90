"""RECIST 1.1 through the services (efficacy.assessments): the baseline's sum, the follow-ups'
stored computed values, re-scoring on a correction, the baseline rules as field errors."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from efficacy.assessments import record_baseline, record_follow_up, update_assessment, void_assessment
from efficacy.models import Lesion, LesionResult, TumourAssessment
from tests.efficacy.conftest import ago, three_targets

BASELINE = {"assessment_date": ago(62), "method": "ct", "comments": ""}


def _baseline(participant, user, targets=None, non_targets=()):
    targets = three_targets() if targets is None else targets
    return record_baseline(
        participant=participant, data=BASELINE, targets=targets, non_targets=list(non_targets), user=user
    )


def _scan(participant, user, days_ago, sizes, *, investigator="SD", non_targets=None, **changes):
    data = {
        "assessment_date": ago(days_ago),
        "method": "ct",
        "new_lesion": "no",
        "new_lesion_description": "",
        "investigator_response": investigator,
        "comments": "",
        **changes,
    }
    targets = {f"T{i}": None if size is None else Decimal(size) for i, size in enumerate(sizes, start=1)}
    assessment = record_follow_up(
        participant=participant, data=data, targets=targets, non_targets=non_targets or {}, user=user
    )
    assessment.refresh_from_db()
    return assessment


def _scored(assessment) -> tuple:
    return (
        assessment.sum_mm,
        assessment.nadir_mm,
        assessment.change_from_baseline_pct,
        assessment.change_from_nadir_pct,
        assessment.computed_response,
    )


def _refused(call) -> dict:
    with pytest.raises(ValidationError) as refusal:
        call()
    return refusal.value.message_dict


def test_a_baseline_with_three_targets_stores_and_returns_their_sum(run_in, coordinator):
    baseline = _baseline(run_in, coordinator)
    stored = TumourAssessment.objects.get(pk=baseline.pk)
    assert (baseline.sum_mm, stored.sum_mm, Lesion.objects.count(), LesionResult.objects.count()) == (
        Decimal("60"),
        Decimal("60"),
        3,
        3,
    )


def test_a_follow_up_stores_sum_nadir_changes_and_the_computed_response(run_in, coordinator):
    _baseline(run_in, coordinator)
    scan = _scan(run_in, coordinator, 18, (20, 14, 7), investigator="PR")
    assert _scored(scan) == (Decimal("41"), Decimal("60"), Decimal("-31.6"), Decimal("-31.6"), "PR")


def test_a_follow_up_20_percent_and_5_mm_over_the_nadir_is_pd(run_in, coordinator):
    _baseline(run_in, coordinator)
    _scan(run_in, coordinator, 18, (20, 14, 7), investigator="PR")
    scan = _scan(run_in, coordinator, 4, (25, 17, 8), investigator="PD")
    assert _scored(scan) == (Decimal("50"), Decimal("41"), Decimal("-16.6"), Decimal("21.9"), "PD")


def test_a_follow_up_with_a_target_not_assessed_is_ne(run_in, coordinator):
    _baseline(run_in, coordinator)
    scan = _scan(run_in, coordinator, 18, (30, None, 10), investigator="NE")
    assert _scored(scan) == (None, Decimal("60"), None, None, "NE")


def test_a_new_lesion_is_pd_whatever_the_targets(run_in, coordinator):
    _baseline(run_in, coordinator)
    scan = _scan(
        run_in, coordinator, 18, (20, 14, 7), investigator="PD", new_lesion="yes", new_lesion_description="Bone"
    )
    assert scan.computed_response == "PD"


def test_an_investigator_response_differing_from_the_computed_one_disagrees(run_in, coordinator):
    _baseline(run_in, coordinator)
    scan = _scan(run_in, coordinator, 18, (20, 14, 7), investigator="SD")
    assert (scan.computed_response, scan.disagrees) == ("PR", True)


def test_an_investigator_response_equal_to_the_computed_one_agrees(run_in, coordinator):
    _baseline(run_in, coordinator)
    scan = _scan(run_in, coordinator, 18, (20, 14, 7), investigator="PR")
    assert scan.disagrees is False


def test_a_correction_of_the_baseline_scores_the_later_assessments_again(run_in, coordinator):
    baseline = _baseline(run_in, coordinator)
    scan = _scan(run_in, coordinator, 18, (25, 15, 5), investigator="SD")  # 45 of 60: -25%, SD
    update_assessment(
        assessment=baseline,
        data=BASELINE,
        targets={"T1": Decimal(40), "T2": Decimal(20), "T3": Decimal(10)},
        non_targets={},
        user=coordinator,
        reason="T1 misread",
    )
    scan.refresh_from_db()
    baseline.refresh_from_db()
    assert (baseline.sum_mm, _scored(scan)) == (
        Decimal("70"),
        (Decimal("45"), Decimal("70"), Decimal("-35.7"), Decimal("-35.7"), "PR"),
    )


def test_a_correction_of_a_baseline_with_non_targets_is_accepted(run_in, coordinator):
    baseline = _baseline(run_in, coordinator, non_targets=[{"organ": "bone", "location": "", "lymph_node": False}])
    update_assessment(
        assessment=baseline,
        data=BASELINE,
        targets={"T1": Decimal(40), "T2": Decimal(20), "T3": Decimal(10)},
        non_targets={},
        user=coordinator,
        reason="T1 misread",
    )
    baseline.refresh_from_db()
    assert (baseline.sum_mm, baseline.version) == (Decimal("70"), 2)


def test_a_correction_of_a_follow_up_scores_it_again(run_in, coordinator):
    _baseline(run_in, coordinator)
    scan = _scan(run_in, coordinator, 18, (25, 15, 5), investigator="SD")
    data = {"assessment_date": scan.assessment_date, "investigator_response": "PR"}
    targets = {"T1": Decimal(20), "T2": Decimal(14), "T3": Decimal(7)}
    update_assessment(assessment=scan, data=data, targets=targets, non_targets={}, user=coordinator, reason="Re-read")
    scan.refresh_from_db()
    assert (scan.sum_mm, scan.computed_response, scan.disagrees) == (Decimal("41"), "PR", False)


def test_voiding_a_baseline_with_follow_ups_is_refused(run_in, coordinator):
    baseline = _baseline(run_in, coordinator)
    _scan(run_in, coordinator, 18, (20, 14, 7), investigator="PR")
    errors = _refused(lambda: void_assessment(assessment=baseline, user=coordinator, reason="Wrong scan"))
    baseline.refresh_from_db()
    assert (list(errors), baseline.voided, baseline.version) == (["reason"], False, 1)


def test_voiding_a_follow_up_scores_the_rest_again(run_in, coordinator):
    _baseline(run_in, coordinator)
    first = _scan(run_in, coordinator, 18, (20, 14, 7), investigator="PR")
    later = _scan(run_in, coordinator, 4, (25, 17, 8), investigator="PD")
    void_assessment(assessment=first, user=coordinator, reason="Other patient's scan")
    later.refresh_from_db()
    assert (later.nadir_mm, later.computed_response) == (Decimal("60"), "SD")


@pytest.mark.parametrize(
    "targets",
    [
        [{"organ": f"organ {i}", "lymph_node": False, "diameter_mm": Decimal(20)} for i in range(6)],
        [{"organ": "liver", "lymph_node": False, "diameter_mm": Decimal(20)} for _ in range(3)],
        [{"organ": "liver", "lymph_node": False, "diameter_mm": Decimal(9)}],
    ],
    ids=["six_targets", "three_in_one_organ", "nine_mm_non_node"],
)
def test_baseline_rule_errors_are_field_errors_and_save_nothing(run_in, coordinator, targets):
    errors = _refused(lambda: _baseline(run_in, coordinator, targets=targets))
    assert (list(errors), TumourAssessment.objects.count(), Lesion.objects.count()) == (["targets"], 0, 0)


def test_a_follow_up_before_the_baseline_is_recorded_is_refused(run_in, coordinator):
    errors = _refused(lambda: _scan(run_in, coordinator, 18, (), investigator="SD"))
    assert (list(errors), TumourAssessment.objects.count()) == (["assessment_date"], 0)


def test_a_follow_up_dated_on_or_before_the_baseline_is_refused(run_in, coordinator):
    _baseline(run_in, coordinator)
    errors = _refused(lambda: _scan(run_in, coordinator, 62, (20, 14, 7)))
    assert (list(errors), TumourAssessment.objects.count()) == (["assessment_date"], 1)


def test_a_second_baseline_is_refused(run_in, coordinator):
    _baseline(run_in, coordinator)
    errors = _refused(lambda: _baseline(run_in, coordinator))
    assert (list(errors), TumourAssessment.objects.count()) == (["assessment_date"], 1)
