"""Issue 22, casebook sign-off and lock: the signature covers the exact data; a later change
supersedes it with the diff (never silently); a lock refuses every write of every service."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from deviations.models import ProtocolDeviation
from deviations.services import record_deviation, update_deviation, void_deviation
from efficacy import assessments, followup, treatment
from efficacy.models import (
    ClinicalProgression,
    FollowUpContact,
    Lesion,
    LesionResult,
    NewAnticancerTherapy,
    RadiotherapyCourse,
    SystemicDose,
    TumourAssessment,
)
from enrollment import services as enrollment
from enrollment.models import Participant, Screening
from monitoring import casebook
from monitoring.casebook import CasebookLocked, CasebookRefused
from monitoring.models import CasebookLock, CasebookSignature, Query
from monitoring.queries import answer_query, close_query, raise_query
from monitoring.values import content_hash
from randomization.lists import generate_allocation_list
from randomization.models import Allocation, AllocationEntry
from randomization.services import randomize
from safety import services as safety
from safety.models import AdverseEvent
from scr_escc.exceptions import SignatureRefused
from scr_escc.models import Alert, ESignature, Study
from scr_escc.signatures import MEANINGS
from tests.efficacy.conftest import ago, course_data, cycle_doses, dose_row, three_targets
from tests.factories import ae_data, make_participant, strong_seed

CLINICAL_MODELS = (
    Participant,
    Screening,
    AdverseEvent,
    SystemicDose,
    RadiotherapyCourse,
    TumourAssessment,
    Lesion,
    LesionResult,
    ClinicalProgression,
    NewAnticancerTherapy,
    FollowUpContact,
    ProtocolDeviation,
)


def everything() -> dict:
    """Every clinical row with its version and history, and the rows a write may add elsewhere."""
    state = {}
    for model in CLINICAL_MODELS:
        state[model.__name__] = sorted(model.objects.values_list("pk", "version"))
        state[f"{model.__name__} history"] = model.history.count()
    state["other"] = (
        Allocation.objects.count(),
        AllocationEntry.objects.filter(allocation__isnull=False).count(),
        ESignature.objects.count(),
        Alert.objects.count(),
        Study.objects.values_list("version", "phase", "treatment_related_grade5").get(),
        CasebookSignature.objects.filter(superseded_at__isnull=True).count(),
    )
    return state


def locked_message(participant) -> str:
    return (
        f"The casebook of {participant.subject_id} is locked by the data manager: nothing in it can be changed. "
        "Ask the data manager to unlock it, with the reason."
    )


class Casebook:
    """A participant with one record of every kind, for the write-every-service tests."""

    def __init__(self, participant, coordinator, investigator):
        self.participant, self.coordinator, self.investigator = participant, coordinator, investigator
        self.ae = AdverseEvent.objects.get(participant=participant)
        self.dose = treatment.record_cycle(
            participant=participant, cycle=1, doses=cycle_doses(ago(30)), user=coordinator
        )[0]
        self.course = treatment.record_course(participant=participant, data=course_data(), user=coordinator)
        self.baseline = assessments.record_baseline(
            participant=participant,
            data={"assessment_date": ago(61), "method": "ct"},
            targets=three_targets(),
            non_targets=[],
            user=coordinator,
        )
        self.follow_up = assessments.record_follow_up(
            participant=participant,
            data={"assessment_date": ago(10), "method": "ct", "new_lesion": "no", "investigator_response": "SD"},
            targets={"T1": Decimal(28), "T2": Decimal(20), "T3": Decimal(10)},
            non_targets={},
            user=coordinator,
        )
        self.progression = followup.record_clinical_progression(
            participant=participant, data={"progression_date": ago(8), "reason": "Bone pain"}, user=coordinator
        )
        self.therapy = followup.record_new_therapy(
            participant=participant,
            data={"start_date": ago(4), "kind": "systemic", "therapy": "Irinotecan"},
            user=coordinator,
        )
        self.contact = followup.record_contact(
            participant=participant, data={"contact_date": ago(2), "method": "visit", "notes": ""}, user=coordinator
        )
        self.deviation = record_deviation(
            data={"deviation_date": ago(3), "category": "visit_schedule", "important": False, "description": "Late"},
            user=coordinator,
            participant=participant,
        )


@pytest.fixture
def full(participant, ae, coordinator, investigator, password, admin_user):
    """The full casebook, signed by the investigator and locked by the data manager."""
    book = Casebook(participant, coordinator, investigator)
    casebook.sign(participant=participant, user=investigator, password=password)
    casebook.lock(participant=participant, user=admin_user)
    return book


R = "Source document"  # a reason for change
WRITES = {
    "record AE": lambda c: safety.record_adverse_event(
        participant=c.participant, data=ae_data(term="Fatigue"), user=c.coordinator
    ),
    "update AE": lambda c: safety.update_adverse_event(ae=c.ae, data={"grade": 3}, user=c.coordinator, reason=R),
    "void AE": lambda c: safety.void_adverse_event(ae=c.ae, user=c.coordinator, reason=R),
    "sign AE attribution": lambda c: safety.sign_attribution(ae=c.ae, user=c.investigator, password="Correct-Horse-42"),
    "update screening": lambda c: enrollment.update_screening(
        screening=c.participant.screening, data={"notes": "seen"}, user=c.coordinator, reason=R
    ),
    "withdraw": lambda c: enrollment.withdraw_participant(
        participant=c.participant, withdrawal_date=ago(0), reason="Moved away", user=c.coordinator
    ),
    "complete": lambda c: enrollment.complete_participant(
        participant=c.participant, completion_date=ago(0), user=c.coordinator
    ),
    "record death": lambda c: enrollment.record_death(
        participant=c.participant, death_date=ago(0), cause="Progression", user=c.investigator
    ),
    "record dose": lambda c: treatment.record_dose(
        participant=c.participant, data={"cycle": 2, "agent": "pd1", **dose_row(ago(9))}, user=c.coordinator
    ),
    "record cycle": lambda c: treatment.record_cycle(
        participant=c.participant, cycle=2, doses=cycle_doses(ago(9)), user=c.coordinator
    ),
    "update dose": lambda c: treatment.update_dose(
        dose=c.dose, data={"dose": Decimal("190")}, user=c.coordinator, reason=R
    ),
    "void dose": lambda c: treatment.void_dose(dose=c.dose, user=c.coordinator, reason=R),
    "record course": lambda c: treatment.record_course(
        participant=c.participant,
        data=course_data(modality="cfrt", start_date=ago(20), end_date=ago(15)),
        user=c.coordinator,
    ),
    "update course": lambda c: treatment.update_course(
        course=c.course, data={"fractions": 3}, user=c.coordinator, reason=R
    ),
    "void course": lambda c: treatment.void_course(course=c.course, user=c.coordinator, reason=R),
    "record follow-up scan": lambda c: assessments.record_follow_up(
        participant=c.participant,
        data={"assessment_date": ago(3), "method": "ct", "new_lesion": "no", "investigator_response": "SD"},
        targets={"T1": Decimal(27), "T2": Decimal(20), "T3": Decimal(10)},
        non_targets={},
        user=c.coordinator,
    ),
    "update scan": lambda c: assessments.update_assessment(
        assessment=c.follow_up, data={}, targets={"T1": Decimal(20)}, non_targets={}, user=c.coordinator, reason=R
    ),
    "update scan comments": lambda c: assessments.update_assessment(
        assessment=c.follow_up, data={"comments": "Re-read"}, targets={}, non_targets={}, user=c.coordinator, reason=R
    ),
    "void scan": lambda c: assessments.void_assessment(assessment=c.follow_up, user=c.coordinator, reason=R),
    "record clinical progression": lambda c: followup.record_clinical_progression(
        participant=c.participant, data={"progression_date": ago(1), "reason": "Dysphagia"}, user=c.coordinator
    ),
    "update clinical progression": lambda c: followup.update_simple(
        record=c.progression, data={"reason": "Bone pain, fracture"}, user=c.coordinator, reason=R
    ),
    "void clinical progression": lambda c: followup.void_simple(record=c.progression, user=c.coordinator, reason=R),
    "record new therapy": lambda c: followup.record_new_therapy(
        participant=c.participant,
        data={"start_date": ago(1), "kind": "surgery", "therapy": "Stent"},
        user=c.coordinator,
    ),
    "update new therapy": lambda c: followup.update_simple(
        record=c.therapy, data={"therapy": "Irinotecan 180"}, user=c.coordinator, reason=R
    ),
    "void new therapy": lambda c: followup.void_simple(record=c.therapy, user=c.coordinator, reason=R),
    "record contact": lambda c: followup.record_contact(
        participant=c.participant, data={"contact_date": ago(1), "method": "phone", "notes": ""}, user=c.coordinator
    ),
    "update contact": lambda c: followup.update_simple(
        record=c.contact, data={"notes": "Well"}, user=c.coordinator, reason=R
    ),
    "void contact": lambda c: followup.void_simple(record=c.contact, user=c.coordinator, reason=R),
    "record deviation": lambda c: record_deviation(
        data={"deviation_date": ago(1), "category": "visit_schedule", "important": False, "description": "Again"},
        user=c.coordinator,
        participant=c.participant,
    ),
    "update deviation": lambda c: update_deviation(
        deviation=c.deviation, data={"description": "A week late"}, user=c.coordinator, reason=R
    ),
    "void deviation": lambda c: void_deviation(deviation=c.deviation, user=c.coordinator, reason=R),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_locked_casebook_refuses_every_write_and_changes_nothing(full, write):
    before = everything()
    with pytest.raises(CasebookLocked) as refused:
        WRITES[write](full)
    assert str(refused.value) == locked_message(full.participant)
    assert everything() == before


@pytest.mark.parametrize("write", WRITES)
def test_every_write_works_again_once_unlocked(full, admin_user, write):
    casebook.unlock(participant=full.participant, user=admin_user, reason="Late lab result to enter")
    before = everything()
    WRITES[write](full)
    assert everything() != before


def test_a_locked_casebook_refuses_its_first_baseline(locked_casebook, participant, coordinator):
    before = everything()
    with pytest.raises(CasebookLocked):
        assessments.record_baseline(
            participant=participant,
            data={"assessment_date": ago(61), "method": "ct"},
            targets=three_targets(),
            non_targets=[],
            user=coordinator,
        )
    assert everything() == before


def test_a_locked_casebook_refuses_a_correction_through_a_query(locked_casebook, ae, monitor, coordinator):
    query = raise_query(user=monitor, record=ae, field="grade", text="Grade 3?")
    before = everything()
    with pytest.raises(CasebookLocked) as refused:
        answer_query(query=query, user=coordinator, text="Grade 3", correction={"grade": 3})
    assert str(refused.value) == locked_message(ae.participant)
    assert everything() == before
    query.refresh_from_db()
    assert (query.status, query.version, query.steps.count()) == ("open", 1, 1)


def test_a_query_on_a_locked_casebook_is_answered_without_a_correction(locked_casebook, ae, monitor, coordinator):
    query = raise_query(user=monitor, record=ae, field="grade", text="Grade 3?")
    assert answer_query(query=query, user=coordinator, text="Grade 2 is right").status == "answered"


def test_a_locked_casebook_refuses_randomization(sh01, coordinator, investigator, admin_user, password, study):
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    generate_allocation_list(seed=strong_seed("casebook-lock"), per_stratum=8, user=admin_user)
    person = make_participant(site=sh01, user=coordinator)
    casebook.sign(participant=person, user=investigator, password=password)
    casebook.lock(participant=person, user=admin_user)
    before = everything()
    with pytest.raises(CasebookLocked) as refused:
        randomize(participant=person, user=coordinator)
    assert str(refused.value) == locked_message(person)
    assert everything() == before
    person.refresh_from_db()
    assert person.arm is None


def test_a_screening_not_enrolled_is_in_no_casebook(locked_casebook, sh01, coordinator):
    from tests.factories import make_screening

    screening = make_screening(site=sh01, user=coordinator, ecog=4, inc3=False)
    updated = enrollment.update_screening(screening=screening, data={"notes": "seen"}, user=coordinator, reason=R)
    assert updated.version == 2


def test_another_participants_casebook_is_not_locked(locked_casebook, sh01, coordinator):
    other = make_participant(site=sh01, user=coordinator)
    assert safety.record_adverse_event(participant=other, data=ae_data(), user=coordinator).pk


# ---- the snapshot and the signature -----------------------------------------------------------------


def test_the_snapshot_covers_participant_screening_aes_and_efficacy_records(participant, ae, coordinator, investigator):
    book = Casebook(participant, coordinator, investigator)
    content = casebook.snapshot(participant)
    assert set(content) == {
        f"participant:{participant.pk}",
        f"screening:{participant.screening_id}",
        f"ae:{ae.pk}",
        *(f"dose:{d.pk}" for d in SystemicDose.objects.filter(participant=participant)),
        f"radiotherapy:{book.course.pk}",
        f"assessment:{book.baseline.pk}",
        f"assessment:{book.follow_up.pk}",
        f"clinical-progression:{book.progression.pk}",
        f"new-therapy:{book.therapy.pk}",
        f"follow-up-contact:{book.contact.pk}",
        f"deviation:{book.deviation.pk}",
    }
    assert content[f"ae:{ae.pk}"]["grade"] == "2"
    assert content[f"assessment:{book.follow_up.pk}"]["lesion T1 (liver)"] == "28"
    assert content[f"screening:{participant.screening_id}"]["initials"] == "ZWL"
    assert "version" not in content[f"ae:{ae.pk}"] and "sum_mm" not in content[f"assessment:{book.follow_up.pk}"]


def test_signing_stores_the_hash_the_content_and_an_e_signature_with_its_meaning(
    participant, ae, investigator, password
):
    signed = casebook.sign(participant=participant, user=investigator, password=password)
    assert signed.content == casebook.snapshot(participant)
    assert signed.content_hash == content_hash(signed.content)
    signature = signed.signature
    assert (signature.signer, signature.action, signature.meaning) == (
        investigator,
        "sign_casebook",
        MEANINGS[ESignature.Action.SIGN_CASEBOOK],
    )
    assert (signed.superseded_at, casebook.status(participant)["state"]) == (None, "signed")


@pytest.mark.parametrize("role", ["coordinator", "investigator_sh02", "pi", "monitor", "admin_user"])
def test_only_an_investigator_of_the_site_signs(request, participant, ae, role, password):
    with pytest.raises(PermissionDenied):
        casebook.sign(participant=participant, user=request.getfixturevalue(role), password=password)
    assert not CasebookSignature.objects.exists() and not ESignature.objects.exists()


def test_a_wrong_password_signs_nothing(participant, ae, investigator):
    with pytest.raises(SignatureRefused):
        casebook.sign(participant=participant, user=investigator, password="wrong")
    assert not CasebookSignature.objects.exists()


def test_signing_an_unchanged_casebook_again_is_refused(signed_casebook, participant, investigator, password):
    with pytest.raises(CasebookRefused):
        casebook.sign(participant=participant, user=investigator, password=password)
    assert CasebookSignature.objects.count() == 1


def test_a_change_after_sign_off_supersedes_the_signature_and_shows_the_diff(
    signed_casebook, participant, ae, coordinator
):
    safety.update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="CT report: grade 3")
    signed_casebook.refresh_from_db()
    assert signed_casebook.superseded_at is not None
    assert (signed_casebook.superseded_by, signed_casebook.superseded_reason) == (coordinator, "CT report: grade 3")
    status = casebook.status(participant)
    assert (status["state"], status["signature"]) == ("superseded", signed_casebook)
    assert status["changes"] == [{"record": f"ae:{ae.pk}", "field": "grade", "old": "2", "new": "3"}]


def test_a_change_through_a_query_supersedes_with_the_query_as_reason(signed_casebook, grade_query, coordinator):
    answer_query(query=grade_query, user=coordinator, text="Grade 3", correction={"grade": 3})
    signed_casebook.refresh_from_db()
    assert signed_casebook.superseded_reason == f"Query Q-{grade_query.pk}: Grade 3"


def test_a_new_record_after_sign_off_supersedes_and_is_listed(signed_casebook, participant, coordinator):
    contact = followup.record_contact(
        participant=participant, data={"contact_date": ago(1), "method": "phone", "notes": ""}, user=coordinator
    )
    changes = casebook.status(participant)["changes"]
    assert {c["record"] for c in changes} == {f"follow-up-contact:{contact.pk}"}
    assert {"field": "method", "old": "", "new": "phone"} in [
        {k: c[k] for k in ("field", "old", "new")} for c in changes
    ]
    signed_casebook.refresh_from_db()
    assert signed_casebook.superseded_reason == "Follow-up contact recorded"


def test_a_no_op_write_does_not_supersede(signed_casebook, participant, ae, coordinator):
    safety.update_adverse_event(ae=ae, data={"grade": 2}, user=coordinator, reason="Checked, unchanged")
    signed_casebook.refresh_from_db()
    assert signed_casebook.superseded_at is None
    status = casebook.status(participant)
    assert (status["state"], status["changes"]) == ("signed", [])


def test_a_change_outside_the_services_is_found_on_reading_never_silently(signed_casebook, participant, ae):
    AdverseEvent.objects.filter(pk=ae.pk).update(grade=3)
    status = casebook.status(participant)
    signed_casebook.refresh_from_db()
    assert (status["state"], signed_casebook.superseded_by, signed_casebook.superseded_reason) == (
        "superseded",
        None,
        "Found changed on reading",
    )
    assert status["changes"] == [{"record": f"ae:{ae.pk}", "field": "grade", "old": "2", "new": "3"}]


def test_signing_again_creates_a_new_current_signature(
    signed_casebook, participant, ae, coordinator, investigator, password
):
    safety.update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="CT report")
    again = casebook.sign(participant=participant, user=investigator, password=password)
    assert again.pk != signed_casebook.pk and again.superseded_at is None
    assert again.content[f"ae:{ae.pk}"]["grade"] == "3"
    status = casebook.status(participant)
    assert (status["state"], status["signature"], status["changes"]) == ("signed", again, [])
    assert CasebookSignature.objects.filter(superseded_at__isnull=True).get() == again


# ---- the lock --------------------------------------------------------------------------------------


def test_lock_and_unlock_are_audited(signed_casebook, participant, admin_user, coordinator):
    row = casebook.lock(participant=participant, user=admin_user)
    assert (row.locked, row.changed_by, casebook.status(participant)["locked"]) == (True, admin_user, True)
    with pytest.raises(ValidationError) as refused:
        casebook.unlock(participant=participant, user=admin_user, reason="  ")
    assert set(refused.value.message_dict) == {"reason"}
    assert casebook.is_locked(participant.pk)
    casebook.unlock(participant=participant, user=admin_user, reason="Late pathology report")
    history = CasebookLock.objects.get().history.order_by("history_date", "history_id")
    assert [(h.locked, h.history_user, h.history_change_reason) for h in history] == [
        (True, admin_user, "Casebook locked"),
        (False, admin_user, "Late pathology report"),
    ]
    assert casebook.status(participant)["locked"] is False
    updated = enrollment.update_screening(
        screening=participant.screening, data={"notes": "seen"}, user=coordinator, reason="Pathology"
    )
    assert updated.version == 2


def test_lock_needs_a_signature(participant, ae, admin_user):
    with pytest.raises(CasebookRefused) as refused:
        casebook.lock(participant=participant, user=admin_user)
    assert "current investigator signature" in str(refused.value)
    assert not CasebookLock.objects.exists()


def test_lock_needs_a_current_signature(signed_casebook, participant, ae, admin_user, coordinator):
    safety.update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="CT report")
    with pytest.raises(CasebookRefused):
        casebook.lock(participant=participant, user=admin_user)
    assert not CasebookLock.objects.exists()


@pytest.mark.parametrize("answered", [False, True])
def test_lock_needs_every_query_closed(signed_casebook, grade_query, participant, admin_user, coordinator, answered):
    if answered:
        answer_query(query=grade_query, user=coordinator, text="Grade 2 is right")
    with pytest.raises(CasebookRefused) as refused:
        casebook.lock(participant=participant, user=admin_user)
    assert "Close every query" in str(refused.value)
    assert not CasebookLock.objects.exists()


def test_a_closed_query_does_not_stop_the_lock(signed_casebook, grade_query, participant, admin_user, monitor):
    close_query(query=grade_query, user=monitor, text="Raised in error")
    assert casebook.lock(participant=participant, user=admin_user).locked


def test_a_locked_casebook_cannot_be_locked_again(locked_casebook, participant, admin_user):
    with pytest.raises(CasebookRefused):
        casebook.lock(participant=participant, user=admin_user)
    assert CasebookLock.objects.get().version == 1


def test_an_unlocked_casebook_cannot_be_unlocked(signed_casebook, participant, admin_user):
    with pytest.raises(CasebookRefused):
        casebook.unlock(participant=participant, user=admin_user, reason="Why not")
    assert not CasebookLock.objects.exists()


@pytest.mark.parametrize("role", ["monitor", "pi", "investigator", "coordinator"])
def test_only_the_data_manager_locks_and_unlocks(request, signed_casebook, participant, admin_user, role):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        casebook.lock(participant=participant, user=user)
    casebook.lock(participant=participant, user=admin_user)
    with pytest.raises(PermissionDenied):
        casebook.unlock(participant=participant, user=user, reason="Mine")
    assert casebook.is_locked(participant.pk)


def test_relocking_after_a_change_needs_a_new_signature(
    locked_casebook, participant, ae, admin_user, coordinator, investigator, password
):
    casebook.unlock(participant=participant, user=admin_user, reason="Late lab result")
    safety.update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="CT report")
    with pytest.raises(CasebookRefused):
        casebook.lock(participant=participant, user=admin_user)
    casebook.sign(participant=participant, user=investigator, password=password)
    row = casebook.lock(participant=participant, user=admin_user)
    assert (row.locked, row.reason, row.version, CasebookLock.objects.count()) == (True, "", 3, 1)


def test_queries_can_still_be_raised_on_a_locked_casebook(locked_casebook, ae, monitor):
    assert raise_query(user=monitor, record=ae, field="grade", text="Grade?").pk
    assert Query.objects.count() == 1
