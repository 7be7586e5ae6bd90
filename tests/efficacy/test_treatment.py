"""Treatment given (efficacy.treatment): a cycle's three agents, dose rules, dates, radiotherapy,
corrections and voids. A refused write saves nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from efficacy.models import RadiotherapyCourse, SystemicDose
from efficacy.treatment import (
    record_course,
    record_cycle,
    record_dose,
    update_course,
    update_dose,
    void_dose,
)
from enrollment.services import record_death
from tests.efficacy.conftest import ago, course_data, cycle_doses, dose_row, enrolled


def _refused(call) -> dict:
    with pytest.raises(ValidationError) as refusal:
        call()
    return refusal.value.message_dict


def _cycle(participant, user, cycle=1, **kwargs):
    return record_cycle(participant=participant, cycle=cycle, doses=cycle_doses(**kwargs), user=user)


def test_a_cycle_records_the_three_agents(run_in, coordinator):
    saved = _cycle(run_in, coordinator, day=ago(3))
    stored = SystemicDose.objects.filter(participant=run_in).values_list("cycle", "agent", "administered_on")
    assert (len(saved), sorted(stored)) == (
        3,
        [(1, "paclitaxel", ago(3)), (1, "pd1", ago(3)), (1, "platinum", ago(3))],
    )


def test_one_bad_agent_saves_none_of_the_cycle_and_names_the_agent(run_in, coordinator):
    errors = _refused(lambda: _cycle(run_in, coordinator, platinum={"change": "reduced"}))
    assert (list(errors), SystemicDose.objects.count()) == (["platinum__change_reason"], 0)


def test_a_cycle_of_the_same_number_again_is_refused_per_agent(run_in, coordinator):
    _cycle(run_in, coordinator)
    errors = _refused(lambda: _cycle(run_in, coordinator))
    assert (set(errors), SystemicDose.objects.count()) == ({"paclitaxel__agent", "platinum__agent", "pd1__agent"}, 3)


@pytest.mark.parametrize("dose", [Decimal("0"), Decimal("-5")], ids=["zero", "negative"])
def test_a_dose_given_must_be_more_than_zero(run_in, coordinator, dose):
    errors = _refused(lambda: _cycle(run_in, coordinator, pd1={"dose": dose}))
    assert (list(errors), SystemicDose.objects.count()) == (["pd1__dose"], 0)


def test_a_given_dose_needs_the_dose(run_in, coordinator):
    errors = _refused(lambda: _cycle(run_in, coordinator, pd1={"dose": None}))
    assert (list(errors), SystemicDose.objects.count()) == (["pd1__dose"], 0)


@pytest.mark.parametrize("change", ["reduced", "delayed", "omitted"])
def test_a_dose_not_as_planned_needs_a_reason(run_in, coordinator, change):
    dose = None if change == "omitted" else Decimal("100")
    errors = _refused(lambda: _cycle(run_in, coordinator, paclitaxel={"change": change, "dose": dose}))
    assert (list(errors), SystemicDose.objects.count()) == (["paclitaxel__change_reason"], 0)


def test_an_omitted_dose_has_no_dose_given(run_in, coordinator):
    changes = {"change": "omitted", "change_reason": "Neutropenia", "dose": Decimal("100")}
    errors = _refused(lambda: _cycle(run_in, coordinator, platinum=changes))
    assert (list(errors), SystemicDose.objects.count()) == (["platinum__dose"], 0)


def test_an_omitted_dose_with_its_reason_is_recorded_without_a_dose(run_in, coordinator):
    _cycle(run_in, coordinator, platinum={"change": "omitted", "change_reason": "Neutropenia", "dose": None})
    assert SystemicDose.objects.get(agent="platinum").dose is None


def test_one_dose_per_agent_per_cycle(run_in, coordinator):
    record_dose(participant=run_in, data={"cycle": 1, "agent": "pd1", **dose_row()}, user=coordinator)
    errors = _refused(
        lambda: record_dose(participant=run_in, data={"cycle": 1, "agent": "pd1", **dose_row()}, user=coordinator)
    )
    assert (list(errors), SystemicDose.objects.count()) == (["agent"], 1)


def test_no_treatment_before_enrollment_in_the_run_in(run_in, coordinator):
    errors = _refused(lambda: _cycle(run_in, coordinator, day=ago(61)))
    assert (set(errors), SystemicDose.objects.count()) == (
        {"paclitaxel__administered_on", "platinum__administered_on", "pd1__administered_on"},
        0,
    )


def test_treatment_on_the_enrollment_day_is_accepted(run_in, coordinator):
    assert len(_cycle(run_in, coordinator, day=ago(60))) == 3


def test_no_treatment_before_randomization(randomized, coordinator):
    participant = randomized("A")  # randomized today
    errors = _refused(lambda: _cycle(participant, coordinator, day=ago(1)))
    assert ("pd1__administered_on" in errors, SystemicDose.objects.count()) == (True, 0)


def test_treatment_on_the_randomization_day_is_accepted(randomized, coordinator):
    participant = randomized("B")
    assert len(_cycle(participant, coordinator, day=ago(0))) == 3


def test_a_randomized_cohort_participant_not_yet_randomized_gets_no_treatment(randomization_open, sh01, coordinator):
    participant = enrolled(site=sh01, user=coordinator, days_ago=5)
    errors = _refused(lambda: _cycle(participant, coordinator, day=ago(0)))
    assert ("not randomized" in errors["pd1__administered_on"][0], SystemicDose.objects.count()) == (True, 0)


def test_no_treatment_after_death(run_in, coordinator, investigator):
    record_death(participant=run_in, death_date=ago(10), cause="Progression", user=investigator)
    errors = _refused(lambda: _cycle(run_in, coordinator, day=ago(5)))
    assert ("died" in errors["pd1__administered_on"][0], SystemicDose.objects.count()) == (True, 0)


def test_no_treatment_in_the_future(run_in, coordinator):
    errors = _refused(lambda: _cycle(run_in, coordinator, day=ago(-1)))
    assert ("future" in errors["pd1__administered_on"][0], SystemicDose.objects.count()) == (True, 0)


# --- Radiotherapy ---------------------------------------------------------------------------


def test_a_radiotherapy_course_is_recorded(run_in, coordinator):
    course = record_course(participant=run_in, data=course_data(), user=coordinator)
    assert RadiotherapyCourse.objects.get().pk == course.pk


def test_a_radiotherapy_course_cannot_end_before_it_starts(run_in, coordinator):
    data = course_data(start_date=ago(3), end_date=ago(5))
    errors = _refused(lambda: record_course(participant=run_in, data=data, user=coordinator))
    assert (list(errors), RadiotherapyCourse.objects.count()) == (["end_date"], 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"total_dose_gy": Decimal("0")}, "total_dose_gy"), ({"fractions": 0}, "fractions")],
    ids=["dose", "fractions"],
)
def test_radiotherapy_dose_and_fractions_are_positive(run_in, coordinator, changes, field):
    errors = _refused(lambda: record_course(participant=run_in, data=course_data(**changes), user=coordinator))
    assert (list(errors), RadiotherapyCourse.objects.count()) == ([field], 0)


def test_arm_b_receives_no_radiotherapy(randomized, coordinator):
    participant = randomized("B")
    data = course_data(start_date=ago(0), end_date=None)
    errors = _refused(lambda: record_course(participant=participant, data=data, user=coordinator))
    assert (list(errors), RadiotherapyCourse.objects.count()) == (["modality"], 0)


def test_arm_a_receives_radiotherapy(randomized, coordinator):
    participant = randomized("A")
    course = record_course(
        participant=participant, data=course_data(start_date=ago(0), end_date=None), user=coordinator
    )
    assert course.pk is not None


# --- Corrections and voids ------------------------------------------------------------------


def test_a_correction_needs_a_reason_and_changes_nothing_without_one(run_in, coordinator):
    dose = _cycle(run_in, coordinator)[0]
    errors = _refused(lambda: update_dose(dose=dose, data={"dose": Decimal("150")}, user=coordinator, reason=""))
    dose.refresh_from_db()
    assert (list(errors), dose.dose, dose.version) == (["reason_for_change"], Decimal("200"), 1)


def test_a_correction_writes_a_history_row_with_the_reason(run_in, coordinator):
    dose = _cycle(run_in, coordinator)[0]
    update_dose(dose=dose, data={"dose": Decimal("150")}, user=coordinator, reason="Transcription error")
    dose.refresh_from_db()
    latest = dose.history.latest("history_date")
    assert (dose.dose, dose.version, dose.history.count(), latest.history_change_reason) == (
        Decimal("150"),
        2,
        2,
        "Transcription error",
    )


def test_a_refused_correction_of_a_course_changes_nothing(run_in, coordinator):
    course = record_course(participant=run_in, data=course_data(), user=coordinator)
    errors = _refused(
        lambda: update_course(course=course, data={"end_date": ago(10)}, user=coordinator, reason="Wrong date")
    )
    course.refresh_from_db()
    assert (list(errors), course.end_date, course.version) == (["end_date"], ago(1), 1)


def test_a_void_keeps_the_row_flagged_with_its_reason(run_in, coordinator):
    dose = _cycle(run_in, coordinator)[0]
    void_dose(dose=dose, user=coordinator, reason="Wrong participant")
    stored = SystemicDose.objects.get(pk=dose.pk)
    assert (stored.voided, stored.void_reason, SystemicDose.objects.count()) == (True, "Wrong participant", 3)


def test_a_voided_dose_frees_its_cycle_and_agent(run_in, coordinator):
    dose = _cycle(run_in, coordinator)[0]
    void_dose(dose=dose, user=coordinator, reason="Wrong participant")
    again = record_dose(participant=run_in, data={"cycle": 1, "agent": dose.agent, **dose_row()}, user=coordinator)
    assert again.pk != dose.pk
