"""SPEC §4–§5: the stopping-rule count, the automatic halt, and the alerts they cause."""

import pytest
from django.core.exceptions import PermissionDenied

from enrollment.models import Participant
from enrollment.services import enroll_participant
from safety.selectors import stopping_rule_count
from safety.services import sign_attribution, update_adverse_event
from scr_escc.exceptions import StudyHalted
from scr_escc.models import Alert, PhaseTransition, Study
from scr_escc.phases import request_resume, resume_study
from scr_escc.selectors import get_study
from scr_escc.services import update_study_settings
from tests.factories import make_ae, make_participant, make_screening


@pytest.fixture
def run_in_participant(sh01, coordinator, study):
    """Enroll one more run-in participant at SH01."""

    def make():
        return make_participant(site=sh01, user=coordinator)

    return make


@pytest.fixture
def halting_ae(run_in_participant, coordinator, pi):
    """Two run-in participants with a treatment-related Grade 5 AE: the study halts. Returns the second AE."""
    make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="possible", term="Sepsis")
    halting = make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="probable")
    assert get_study().phase == Study.Phase.HALTED
    return halting


def _alerts(kind):
    return list(Alert.objects.filter(kind=kind))


def test_grade5_entered_unlikely_by_a_coordinator_counts_until_an_investigator_signs(
    run_in_participant, coordinator, investigator, password
):
    death = make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="unlikely")
    assert stopping_rule_count() == 1 and get_study().treatment_related_grade5 == 1
    assert len(_alerts("stopping_rule_warning")) == 1
    sign_attribution(ae=death, user=investigator, password=password)
    assert stopping_rule_count() == 0 and get_study().treatment_related_grade5 == 0


def test_a_signed_related_attribution_keeps_counting(run_in_participant, coordinator, investigator, password):
    death = make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="possible")
    sign_attribution(ae=death, user=investigator, password=password)
    assert get_study().treatment_related_grade5 == 1


def test_the_pi_may_sign_an_attribution(run_in_participant, coordinator, pi, password):
    death = make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="unlikely")
    signed = sign_attribution(ae=death, user=pi, password=password)
    assert (signed.attribution_signature.signer, get_study().treatment_related_grade5) == (pi, 0)


def test_a_coordinator_cannot_sign_an_attribution(run_in_participant, coordinator, password):
    death = make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="unlikely")
    with pytest.raises(PermissionDenied):
        sign_attribution(ae=death, user=coordinator, password=password)
    death.refresh_from_db()
    assert (death.attribution_signature, get_study().treatment_related_grade5) == (None, 1)


def test_a_changed_attribution_needs_a_new_sign_off(run_in_participant, coordinator, investigator, password):
    death = make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="unlikely")
    sign_attribution(ae=death, user=investigator, password=password)
    update_adverse_event(
        ae=death,
        data={"attribution_pd1": "unrelated", "attribution_chemo": "unrelated"},
        user=coordinator,
        reason="Typo",
    )
    death.refresh_from_db()
    assert death.attribution_signature is None
    assert get_study().treatment_related_grade5 == 1


def test_first_related_grade5_warns_once(run_in_participant, coordinator, pi):
    make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="possible", term="Sepsis")
    study = get_study()
    assert study.treatment_related_grade5 == 1
    assert study.phase == Study.Phase.RUN_IN
    assert len(_alerts("stopping_rule_warning")) == 1
    assert not _alerts("stopping_rule_triggered")


def test_related_grade4_does_not_count(run_in_participant, coordinator, pi):
    make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="possible", term="Sepsis")
    make_ae(participant=run_in_participant(), user=coordinator, grade=4, related="definite")
    study = get_study()
    assert study.treatment_related_grade5 == 1
    assert study.phase == Study.Phase.RUN_IN  # had the Grade 4 counted, this would be the second: a halt
    assert len(_alerts("stopping_rule_warning")) == 1


def test_second_related_grade5_halts_study_and_alerts_pi_and_safety_contacts(
    run_in_participant, coordinator, pi, admin_user
):
    update_study_settings(user=admin_user, data={"safety_contact_emails": "dsmb@example.org"}, reason="DSMB contact")
    make_ae(participant=run_in_participant(), user=coordinator, grade=5, related="possible", term="Sepsis")
    second = run_in_participant()
    make_ae(participant=second, user=coordinator, grade=5, related="probable", term="Pneumonitis")
    study = get_study()
    assert study.treatment_related_grade5 == 2
    assert study.phase == Study.Phase.HALTED
    triggered = _alerts("stopping_rule_triggered")
    assert len(triggered) == 1
    assert "pi@example.org" in triggered[0].recipients and "dsmb@example.org" in triggered[0].recipients
    assert second.subject_id in triggered[0].body and "2 of 2" in triggered[0].subject


def test_halted_study_refuses_enrollment_and_creates_no_participant(halting_ae, sh01, coordinator):
    screening = make_screening(site=sh01, user=coordinator)
    before = Participant.objects.count()
    with pytest.raises(StudyHalted):
        enroll_participant(screening=screening, user=coordinator)
    assert Participant.objects.count() == before
    assert not Participant.objects.filter(screening=screening).exists()


def test_a_coordinators_reattribution_of_a_death_does_not_lower_the_count(halting_ae, coordinator):
    update_adverse_event(
        ae=halting_ae, data={"attribution_chemo": "unlikely"}, user=coordinator, reason="Autopsy: progression"
    )
    study = get_study()
    assert (study.treatment_related_grade5, study.phase) == (2, Study.Phase.HALTED)


def test_a_signed_reattribution_below_threshold_keeps_study_halted_and_does_not_repeat_warning(
    halting_ae, investigator, password
):
    assert len(_alerts("stopping_rule_warning")) == 1
    sign_attribution(
        ae=halting_ae,
        user=investigator,
        password=password,
        attributions={"chemo": "unlikely"},
        reason="Autopsy: progression, not toxicity",
    )
    study = get_study()
    assert study.treatment_related_grade5 == 1
    assert study.phase == Study.Phase.HALTED
    assert len(_alerts("stopping_rule_warning")) == 1  # no repeat


def test_resume_after_signed_reattribution_takes_the_data_manager_and_the_pi(
    halting_ae, investigator, admin_user, pi, password
):
    sign_attribution(
        ae=halting_ae, user=investigator, password=password, attributions={"chemo": "unlikely"}, reason="Autopsy"
    )
    request_resume(user=admin_user, reason="Re-attribution after autopsy")
    assert get_study().phase == Study.Phase.HALTED
    resume_study(user=pi, password=password)
    assert get_study().phase == Study.Phase.RUN_IN
    transition = PhaseTransition.objects.get(to_phase="run_in")
    assert (transition.by, transition.signature.signer) == (pi, pi)
    assert "Re-attribution after autopsy" in transition.reason


def test_the_sae_alert_of_a_death_states_the_count_after_that_death(sh01, coordinator, study):
    """The SAE alert is written after the recount: it never reports the state before the death."""
    from scr_escc.selectors import get_study

    threshold = get_study().stopping_threshold
    for _ in range(threshold):
        ae = make_ae(
            participant=make_participant(site=sh01, user=coordinator), user=coordinator, grade=5, related="definite"
        )
    assert get_study().phase == "halted"
    body = Alert.objects.get(key=f"sae_reported:{ae.pk}").body
    assert f"Stopping rule: {threshold} of {threshold}" in body
    assert "phase: Halted" in body
