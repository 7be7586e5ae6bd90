"""Issue 22, source-data verification: the study's level per record type, a monitor's marks, the
reset when a verified value changes (with old → new), and the worklist's progress."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from efficacy.assessments import record_baseline, record_follow_up, update_assessment
from efficacy.treatment import record_course, update_course
from enrollment.services import update_screening, withdraw_participant
from monitoring import sdv
from monitoring.models import MonitoringSettings, SdvMark
from monitoring.queries import answer_query
from monitoring.record_types import RECORD_TYPES
from safety.services import update_adverse_event, void_adverse_event
from scr_escc.audit import StaleEdit
from scr_escc.exceptions import RecordVoided
from tests.efficacy.conftest import ago, course_data, three_targets
from tests.factories import make_ae

SCREENING_KEYS = {"initials", "date_of_birth", "sex", "consent_date", "screening_date", "ecog", "histology"}


def _set_levels(user, **levels_by_type):
    sdv.update_settings(user=user, levels_by_type=levels_by_type, query_digest_days=7, reason="Monitoring plan v2")


def _scan(participant, user):
    """A baseline of three targets and a follow-up of them (T1 30 → 24 mm), the investigator's SD."""
    record_baseline(
        participant=participant,
        data={"assessment_date": ago(61), "method": "ct"},
        targets=three_targets(),
        non_targets=[],
        user=user,
    )
    return record_follow_up(
        participant=participant,
        data={"assessment_date": ago(5), "method": "ct", "new_lesion": "no", "investigator_response": "SD"},
        targets={"T1": Decimal(24), "T2": Decimal(20), "T3": Decimal(10)},
        non_targets={},
        user=user,
    )


def test_the_default_plan(db):
    assert sdv.levels() == {
        "screening": "key",
        "participant": "key",
        "ae": "all",
        "dose": "none",
        "radiotherapy": "none",
        "assessment": "key",
        "clinical-progression": "key",
        "new-therapy": "key",
        "follow-up-contact": "none",
        "deviation": "key",
    }


def test_verify_at_key_level_stores_only_the_key_fields(participant, monitor):
    mark = sdv.verify(user=monitor, record=participant.screening)
    assert (mark.level, mark.status, mark.verified_by, mark.site, mark.participant) == (
        "key",
        "verified",
        monitor,
        participant.site,
        participant,
    )
    assert set(mark.verified_values) == SCREENING_KEYS
    assert mark.verified_values["ecog"] == "1" and mark.verified_values["sex"] == "male"
    assert mark.history.get().history_change_reason == "Source data verified (key fields)"


def test_verify_at_all_level_stores_every_queryable_field(ae, monitor):
    mark = sdv.verify(user=monitor, record=ae)
    assert (mark.level, set(mark.verified_values)) == ("all", set(RECORD_TYPES["ae"].fields))
    assert mark.verified_values["grade"] == "2"


def test_a_change_of_a_verified_key_field_marks_it_changed_with_old_and_new(participant, monitor, coordinator):
    sdv.verify(user=monitor, record=participant.screening)
    update_screening(screening=participant.screening, data={"ecog": 0}, user=coordinator, reason="Typo")
    mark = SdvMark.objects.get(record_type="screening")
    assert (mark.status, mark.changes) == ("changed", [{"field": "ecog", "old": "1", "new": "0"}])
    assert mark.changed_at is not None
    newest = mark.history.order_by("-history_date", "-history_id").first()
    assert (newest.history_change_reason, newest.history_user) == ("Verified data changed: Typo", coordinator)


def test_a_change_of_a_field_outside_the_key_fields_leaves_it_verified(participant, monitor, coordinator):
    mark = sdv.verify(user=monitor, record=participant.screening)
    update_screening(
        screening=participant.screening, data={"notes": "seen", "pgsga_score": 5}, user=coordinator, reason="Added"
    )
    mark.refresh_from_db()
    assert (mark.status, mark.changes, mark.version) == ("verified", [], 1)


def test_a_second_change_updates_the_diff_but_keeps_the_first_change_time(participant, monitor, coordinator):
    sdv.verify(user=monitor, record=participant.screening)
    update_screening(screening=participant.screening, data={"ecog": 0}, user=coordinator, reason="Typo")
    first = SdvMark.objects.get().changed_at
    update_screening(screening=participant.screening, data={"sex": "female"}, user=coordinator, reason="Typo 2")
    mark = SdvMark.objects.get()
    assert mark.changes == [
        {"field": "ecog", "old": "1", "new": "0"},
        {"field": "sex", "old": "male", "new": "female"},
    ]
    assert mark.changed_at == first


def test_verifying_again_clears_the_changes(participant, monitor, coordinator):
    sdv.verify(user=monitor, record=participant.screening)
    update_screening(screening=participant.screening, data={"ecog": 0}, user=coordinator, reason="Typo")
    mark = sdv.verify(user=monitor, record=participant.screening)
    assert (mark.status, mark.changes, mark.changed_at, mark.verified_values["ecog"]) == ("verified", [], None, "0")
    assert SdvMark.objects.count() == 1


def test_a_withdrawal_resets_the_verified_participant(participant, monitor, coordinator):
    sdv.verify(user=monitor, record=participant)
    withdraw_participant(participant=participant, withdrawal_date=ago(1), reason="Moved away", user=coordinator)
    mark = SdvMark.objects.get(record_type="participant")
    assert (mark.status, mark.changes) == (
        "changed",
        [{"field": "withdrawal_date", "old": "", "new": ago(1).isoformat()}],
    )


def test_an_ae_grade_corrected_through_a_query_resets_its_verification(grade_query, ae, monitor, coordinator):
    sdv.verify(user=monitor, record=ae)
    answer_query(query=grade_query, user=coordinator, text="Grade 3 on the source", correction={"grade": 3})
    mark = SdvMark.objects.get(record_type="ae", record_id=ae.pk)
    assert (mark.status, mark.changes) == ("changed", [{"field": "grade", "old": "2", "new": "3"}])


def test_a_lesion_measurement_change_resets_a_verified_tumour_assessment(participant, monitor, coordinator):
    scan = _scan(participant, coordinator)
    mark = sdv.verify(user=monitor, record=scan)
    assert mark.verified_values["lesion T1 (liver)"] == "24"
    update_assessment(
        assessment=scan, data={}, targets={"T1": Decimal(21)}, non_targets={}, user=coordinator, reason="Re-read"
    )
    mark.refresh_from_db()
    assert (mark.status, mark.changes) == ("changed", [{"field": "lesion T1 (liver)", "old": "24", "new": "21"}])


def test_a_decimal_typed_without_its_trailing_zero_is_the_same_value(participant, monitor, coordinator, admin_user):
    """4.5 from a form and 4.50 read back from the column are one value: no false reset."""
    _set_levels(admin_user, radiotherapy="key")
    course = record_course(participant=participant, data=course_data(total_dose_gy=Decimal("4.50")), user=coordinator)
    mark = sdv.verify(user=monitor, record=course)
    assert mark.verified_values["total_dose_gy"] == "4.5"
    update_course(
        course=course,
        data={**course_data(total_dose_gy=Decimal("4.5")), "target_site": "Primary tumour, middle third"},
        user=coordinator,
        reason="Site named fully",
    )
    mark.refresh_from_db()
    assert (mark.status, mark.changes) == ("verified", [])


def test_verify_is_refused_when_the_plan_sets_none(participant, monitor, coordinator):
    course = record_course(participant=participant, data=course_data(), user=coordinator)
    with pytest.raises(sdv.SdvRefused) as refused:
        sdv.verify(user=monitor, record=course)
    assert "sets no source-data verification for Radiotherapy course records" in str(refused.value)
    assert not SdvMark.objects.exists()


@pytest.mark.parametrize("role", ["coordinator", "investigator", "pi", "admin_user"])
def test_only_monitors_verify(request, ae, role):
    with pytest.raises(PermissionDenied):
        sdv.verify(user=request.getfixturevalue(role), record=ae)
    assert not SdvMark.objects.exists()


def test_a_voided_record_is_not_verified(ae, monitor, coordinator):
    void_adverse_event(ae=ae, user=coordinator, reason="Duplicate")
    with pytest.raises(RecordVoided):
        sdv.verify(user=monitor, record=ae)
    assert not SdvMark.objects.exists()


def test_a_stale_verification_is_refused(ae, monitor, coordinator):
    seen = ae.version
    update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="Source")
    with pytest.raises(StaleEdit):
        sdv.verify(user=monitor, record=ae, expected_version=seen)
    assert not SdvMark.objects.exists()


# ---- the worklist -------------------------------------------------------------------------------


def _progress(user, participant):
    (row,) = sdv.worklist(user, participant=participant)
    return row.required, row.verified, row.changed, row.percent


def test_worklist_counts_per_participant(participant, ae, monitor, coordinator):
    """Screening (key), participant (key) and the AE (all): three records to verify."""
    assert _progress(monitor, participant) == (3, 0, 0, 0)
    sdv.verify(user=monitor, record=participant.screening)
    assert _progress(monitor, participant) == (3, 1, 0, 33)
    sdv.verify(user=monitor, record=ae)
    update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="Source")
    assert _progress(monitor, participant) == (3, 1, 1, 33)
    (row,) = sdv.worklist(monitor, participant=participant)
    assert [(t.code, r.pk, status) for t, r, status, _mark in row.pending] == [
        ("participant", participant.pk, "unverified"),
        ("ae", ae.pk, "changed"),
    ]


def test_a_voided_record_needs_no_verification(participant, ae, monitor, coordinator):
    void_adverse_event(ae=ae, user=coordinator, reason="Duplicate")
    assert _progress(monitor, participant) == (2, 0, 0, 0)


def test_raising_the_level_makes_records_verified_at_key_count_as_unverified(participant, monitor, admin_user):
    sdv.verify(user=monitor, record=participant.screening)
    assert _progress(monitor, participant)[1] == 1
    _set_levels(admin_user, screening="all")
    (row,) = sdv.worklist(monitor, participant=participant)
    assert (row.verified, row.changed) == (0, 0)
    assert ("screening", "unverified") in [(t.code, status) for t, _r, status, _m in row.pending]
    mark = sdv.verify(user=monitor, record=participant.screening)
    assert (mark.level, _progress(monitor, participant)[1]) == ("all", 1)


def test_lowering_the_level_keeps_a_full_verification(participant, monitor, admin_user):
    _set_levels(admin_user, screening="all")
    sdv.verify(user=monitor, record=participant.screening)
    _set_levels(admin_user, screening="key")
    assert _progress(monitor, participant)[1] == 1


def test_the_worklist_is_scoped_to_the_users_sites(participant, participant_sh02, coordinator, monitor):
    assert [row.participant for row in sdv.worklist(coordinator)] == [participant]
    assert [row.participant for row in sdv.worklist(monitor)] == [participant, participant_sh02]
    assert [row.participant for row in sdv.worklist(monitor, site=participant_sh02.site)] == [participant_sh02]


def test_a_participant_with_nothing_to_verify_is_complete(participant, monitor, admin_user):
    _set_levels(admin_user, screening="none", participant="none")
    assert _progress(monitor, participant) == (0, 0, 0, 100)


# ---- the monitoring plan ------------------------------------------------------------------------


def test_update_settings_stores_the_plan_with_a_history_row(admin_user, db):
    row = sdv.update_settings(
        user=admin_user, levels_by_type={"dose": "all"}, query_digest_days=14, reason="  Plan v2  "
    )
    assert (sdv.levels()["dose"], sdv.levels()["ae"], row.query_digest_days) == ("all", "all", 14)
    newest = MonitoringSettings.objects.get().history.order_by("-history_date", "-history_id").first()
    assert (newest.history_change_reason, newest.history_user, newest.query_digest_days) == (
        "Plan v2",
        admin_user,
        14,
    )


@pytest.mark.parametrize(
    ("levels_by_type", "days", "reason", "errors"),
    [
        ({"dose": "most"}, 7, "Plan", {"sdv_dose"}),
        ({"lab": "all"}, 7, "Plan", {"sdv_lab"}),
        ({}, 0, "Plan", {"query_digest_days"}),
        ({}, 91, "Plan", {"query_digest_days"}),
        ({}, None, "Plan", {"query_digest_days"}),
        ({}, 7, "  ", {"reason_for_change"}),
    ],
)
def test_update_settings_refuses_bad_input_and_changes_nothing(admin_user, db, levels_by_type, days, reason, errors):
    before = sdv.monitoring_settings()
    with pytest.raises(ValidationError) as refused:
        sdv.update_settings(user=admin_user, levels_by_type=levels_by_type, query_digest_days=days, reason=reason)
    assert set(refused.value.message_dict) == errors
    after = MonitoringSettings.objects.get()
    assert (after.version, after.sdv_levels, after.query_digest_days) == (before.version, {}, 7)


@pytest.mark.parametrize("role", ["monitor", "pi", "coordinator"])
def test_only_the_data_manager_sets_the_plan(request, role):
    with pytest.raises(PermissionDenied):
        sdv.update_settings(
            user=request.getfixturevalue(role), levels_by_type={"ae": "none"}, query_digest_days=7, reason="Plan"
        )
    assert sdv.levels()["ae"] == "all"


def test_an_ae_at_all_level_resets_on_any_of_its_fields(ae, monitor, coordinator):
    sdv.verify(user=monitor, record=ae)
    update_adverse_event(ae=ae, data={"action_taken": "dose_reduced"}, user=coordinator, reason="Source")
    mark = SdvMark.objects.get()
    assert (mark.status, mark.changes) == ("changed", [{"field": "action_taken", "old": "none", "new": "dose_reduced"}])


def test_a_new_ae_has_no_mark_and_counts_as_unverified(participant, monitor, coordinator):
    make_ae(participant=participant, user=coordinator, grade=1)
    assert _progress(monitor, participant) == (3, 0, 0, 0)
