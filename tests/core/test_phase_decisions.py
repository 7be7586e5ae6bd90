"""SPEC §5: the study phase state machine — e-signed PI decisions, the resume the data manager
asks for and the PI signs, and the block on enrollment once halted or terminated; pages and API alike."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from enrollment.models import Participant
from safety.services import sign_attribution
from scr_escc.exceptions import PhaseTransitionRefused, SignatureRefused
from scr_escc.models import Alert, ESignature, PhaseTransition, Study
from scr_escc.phases import confirm_termination, open_randomization, request_resume, resume_study
from scr_escc.selectors import get_study
from scr_escc.signatures import MEANINGS
from tests.factories import make_ae, make_participant, make_screening

OPEN_RANDOMIZATION_MEANING = MEANINGS[ESignature.Action.OPEN_RANDOMIZATION]
CONFIRM_TERMINATION_MEANING = MEANINGS[ESignature.Action.CONFIRM_TERMINATION]

OPEN = "/api/v1/study/open-randomization/"
TERMINATE = "/api/v1/study/confirm-termination/"
RESUME = "/api/v1/study/resume/"
SIGN_RESUME = "/api/v1/study/resume/sign/"
DECISIONS = "/study/decisions/"


@pytest.fixture
def run_in(sh01, coordinator, pi, admin_user, study):
    """Two run-in participants with a run-in minimum of 2: randomization may open."""
    Study.objects.filter(pk=1).update(run_in_min=2)
    return [make_participant(site=sh01, user=coordinator) for _ in range(2)]


@pytest.fixture
def halted(run_in, coordinator):
    """Both run-in participants died of a treatment-related Grade 5 AE: the study halted itself."""
    first = make_ae(participant=run_in[0], user=coordinator, grade=5, related="possible")
    second = make_ae(participant=run_in[1], user=coordinator, grade=5, related="probable")
    assert get_study().phase == Study.Phase.HALTED
    return first, second


def state():
    study = get_study()
    return {
        "phase": study.phase,
        "signatures": ESignature.objects.count(),
        "transitions": PhaseTransition.objects.count(),
        "phase_alerts": Alert.objects.filter(kind=Alert.Kind.PHASE_CHANGED).count(),
        "version": study.version,
    }


def correct_below_threshold(ae, investigator, password):
    """The site investigator signs a re-attribution of the second death: the count drops to 1."""
    sign_attribution(
        ae=ae, user=investigator, password=password, attributions={"chemo": "unlikely"}, reason="Autopsy: progression"
    )
    assert get_study().treatment_related_grade5 == 1


@pytest.fixture
def corrected(halted, investigator, password):
    correct_below_threshold(halted[1], investigator, password)
    return halted


# --- Open randomization -----------------------------------------------------------------


def test_pi_with_password_opens_randomization_with_signature_transition_and_alert(run_in, pi, password):
    started = timezone.now()
    open_randomization(user=pi, password=password)

    study = get_study()
    assert study.phase == Study.Phase.RANDOMIZATION
    signature = ESignature.objects.get()
    assert signature.signer == pi
    assert signature.meaning == OPEN_RANDOMIZATION_MEANING
    assert started <= signature.signed_at <= timezone.now()
    transition = PhaseTransition.objects.get()
    assert (transition.from_phase, transition.to_phase, transition.by, transition.signature) == (
        "run_in",
        "randomization",
        pi,
        signature,
    )
    alert = Alert.objects.get(kind=Alert.Kind.PHASE_CHANGED)
    assert alert.key == f"phase_changed:{transition.pk}"
    assert OPEN_RANDOMIZATION_MEANING in alert.body
    # The audit trail of the study row has the change, by the PI.
    change = study.history.order_by("-history_date", "-history_id").first()
    assert (change.phase, change.history_user) == ("randomization", pi)


def test_api_open_randomization_returns_the_study(run_in, pi, password, api):
    response = api(pi).post(OPEN, {"password": password}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["phase"] == "randomization"
    assert response.json()["run_in_enrolled"] == 2


def test_wrong_password_is_refused_and_nothing_changes(run_in, pi):
    before = state()
    with pytest.raises(SignatureRefused):
        open_randomization(user=pi, password="not-my-password")
    with pytest.raises(SignatureRefused):
        open_randomization(user=pi, password="")
    assert state() == before
    assert before["phase"] == "run_in" and before["signatures"] == 0


def test_api_wrong_password_is_403_and_nothing_changes(run_in, pi, api):
    before = state()
    response = api(pi).post(OPEN, {"password": "not-my-password"}, format="json")
    assert response.status_code == 403
    assert "detail" in response.json()
    assert state() == before


def test_api_missing_password_is_400(run_in, pi, api):
    before = state()
    response = api(pi).post(OPEN, {}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()
    assert state() == before


def test_too_few_run_in_participants_is_409_with_reason(sh01, coordinator, pi, password, api, study):
    Study.objects.filter(pk=1).update(run_in_min=2)
    make_participant(site=sh01, user=coordinator)
    before = state()
    response = api(pi).post(OPEN, {"password": password}, format="json")
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "1 run-in" in detail and "at least 2" in detail
    assert state() == before


def test_default_run_in_minimum_is_20(sh01, coordinator, pi, password, study):
    for _ in range(19):
        make_participant(site=sh01, user=coordinator)
    before = state()
    with pytest.raises(PhaseTransitionRefused):
        open_randomization(user=pi, password=password)
    assert state() == before
    make_participant(site=sh01, user=coordinator)
    open_randomization(user=pi, password=password)
    assert get_study().phase == Study.Phase.RANDOMIZATION


def test_open_randomization_from_halted_is_409(halted, pi, password, api):
    before = state()
    response = api(pi).post(OPEN, {"password": password}, format="json")
    assert response.status_code == 409
    assert "detail" in response.json()
    assert state() == before


def test_open_randomization_refused_when_count_reached_threshold(run_in, pi, password):
    Study.objects.filter(pk=1).update(treatment_related_grade5=2)
    before = state()
    with pytest.raises(PhaseTransitionRefused):
        open_randomization(user=pi, password=password)
    assert state() == before


def test_open_randomization_twice_is_409(run_in, pi, password, api):
    client = api(pi)
    assert client.post(OPEN, {"password": password}, format="json").status_code == 200
    before = state()
    assert client.post(OPEN, {"password": password}, format="json").status_code == 409
    assert state() == before


@pytest.mark.parametrize("role", ["coordinator", "investigator", "monitor", "admin_user"])
def test_only_the_pi_may_open_randomization(role, run_in, request, password, api, login):
    user = request.getfixturevalue(role)
    before = state()
    with pytest.raises(PermissionDenied):
        open_randomization(user=user, password=password)
    assert api(user).post(OPEN, {"password": password}, format="json").status_code == 403
    page = login(user).post(DECISIONS, {"action": "open_randomization", "meaning": "on", "password": password})
    assert page.status_code == 403
    assert state() == before


# --- Confirm termination ----------------------------------------------------------------


def test_pi_confirms_termination_of_a_halted_study(halted, pi, password, api):
    response = api(pi).post(TERMINATE, {"password": password, "reason": "Two treatment-related deaths"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["phase"] == "terminated"
    assert get_study().phase == Study.Phase.TERMINATED
    signature = ESignature.objects.get(action="confirm_termination")
    assert (signature.signer, signature.meaning, signature.reason) == (
        pi,
        CONFIRM_TERMINATION_MEANING,
        "Two treatment-related deaths",
    )
    transition = PhaseTransition.objects.get(to_phase="terminated")
    assert (transition.from_phase, transition.signature, transition.by) == ("halted", signature, pi)
    assert Alert.objects.filter(key=f"phase_changed:{transition.pk}").exists()


def test_termination_only_from_halted(run_in, pi, password, api):
    before = state()
    response = api(pi).post(TERMINATE, {"password": password, "reason": "Not halted"}, format="json")
    assert response.status_code == 409
    assert state() == before
    assert get_study().phase == Study.Phase.RUN_IN


def test_termination_with_wrong_password_changes_nothing(halted, pi, api):
    before = state()
    with pytest.raises(SignatureRefused):
        confirm_termination(user=pi, password="wrong", reason="Stopping rule")
    response = api(pi).post(TERMINATE, {"password": "wrong", "reason": "Stopping rule"}, format="json")
    assert response.status_code == 403
    assert state() == before
    assert before["phase"] == "halted"


def test_termination_needs_a_reason(halted, pi, password, api):
    before = state()
    with pytest.raises(ValidationError) as refused:
        confirm_termination(user=pi, password=password, reason="  ")
    assert "reason" in refused.value.message_dict
    response = api(pi).post(TERMINATE, {"password": password}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert state() == before


@pytest.mark.parametrize("role", ["coordinator", "monitor", "admin_user"])
def test_only_the_pi_may_confirm_termination(role, halted, request, password, api, login):
    user = request.getfixturevalue(role)
    before = state()
    assert api(user).post(TERMINATE, {"password": password, "reason": "x"}, format="json").status_code == 403
    page = login(user).post(
        DECISIONS, {"action": "confirm_termination", "meaning": "on", "password": password, "reason": "x"}
    )
    assert page.status_code == 403
    assert state() == before


# --- Resume: the data manager asks with a reason, the PI e-signs ----------------------------


def test_resume_takes_the_data_managers_request_and_the_pis_signature(corrected, admin_user, pi, password, api):
    response = api(admin_user).post(RESUME, {"reason": "Second death re-attributed after autopsy"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["phase"] == "halted"
    response = api(pi).post(SIGN_RESUME, {"password": password}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["phase"] == "run_in"
    transition = PhaseTransition.objects.get(from_phase="halted")
    assert (transition.to_phase, transition.by, transition.signature.action) == ("run_in", pi, "resume_study")
    assert "Second death re-attributed after autopsy" in transition.reason
    assert transition.signature.signer_name == pi.get_full_name() or pi.username


def test_resume_returns_to_randomization_when_halted_during_randomization(
    run_in, coordinator, investigator, pi, admin_user, password
):
    open_randomization(user=pi, password=password)
    make_ae(participant=run_in[0], user=coordinator, grade=5, related="possible")
    halting = make_ae(participant=run_in[1], user=coordinator, grade=5, related="definite")
    assert get_study().phase == Study.Phase.HALTED
    sign_attribution(
        ae=halting, user=investigator, password=password, attributions={"chemo": "unrelated"}, reason="DSMB"
    )
    request_resume(user=admin_user, reason="DSMB review")
    resume_study(user=pi, password=password)
    assert get_study().phase == Study.Phase.RANDOMIZATION


def test_resume_request_refused_while_count_is_at_threshold(halted, admin_user, api):
    before = state()
    response = api(admin_user).post(RESUME, {"reason": "Please"}, format="json")
    assert response.status_code == 409
    assert "count is 2" in response.json()["detail"]
    assert state() == before


def test_resume_only_from_halted(run_in, admin_user, api):
    before = state()
    with pytest.raises(PhaseTransitionRefused):
        request_resume(user=admin_user, reason="Nothing to resume")
    assert api(admin_user).post(RESUME, {"reason": "Nothing"}, format="json").status_code == 409
    assert state() == before


def test_pi_cannot_resume_without_the_data_managers_request(corrected, pi, password, api):
    before = state()
    assert api(pi).post(SIGN_RESUME, {"password": password}, format="json").status_code == 409
    assert state() == before


def test_resume_needs_a_reason(corrected, admin_user, api):
    before = state()
    with pytest.raises(ValidationError) as refused:
        request_resume(user=admin_user, reason="   ")
    assert "reason" in refused.value.message_dict
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = api(admin_user).post(RESUME, body, format="json")
        assert response.status_code == 400
        assert "reason" in response.json()
    assert state() == before


@pytest.mark.parametrize("role", ["pi", "coordinator", "investigator", "monitor"])
def test_only_a_data_manager_may_ask_to_resume(role, corrected, request, api, login):
    user = request.getfixturevalue(role)
    before = state()
    with pytest.raises(PermissionDenied):
        request_resume(user=user, reason="I would like to")
    assert api(user).post(RESUME, {"reason": "I would like to"}, format="json").status_code == 403
    assert login(user).post(DECISIONS, {"action": "request_resume", "reason": "I would like to"}).status_code == 403
    assert state() == before


@pytest.mark.parametrize("role", ["admin_user", "coordinator", "investigator", "monitor"])
def test_only_the_pi_may_sign_the_resume(role, corrected, admin_user, request, password, api):
    request_resume(user=admin_user, reason="Corrected")
    user = request.getfixturevalue(role)
    before = state()
    with pytest.raises(PermissionDenied):
        resume_study(user=user, password=password)
    assert api(user).post(SIGN_RESUME, {"password": password}, format="json").status_code == 403
    assert state() == before


def test_resume_on_the_page_request_then_signature(corrected, admin_user, pi, password, login):
    response = login(admin_user).post(DECISIONS, {"action": "request_resume", "reason": "Corrected after review"})
    assert response.status_code == 302
    assert get_study().phase == Study.Phase.HALTED
    page = login(pi).get(DECISIONS)
    assert set(page.context["forms"]) == {"confirm_termination", "sign_resume", "amend_protocol"}
    assert "Corrected after review" in page.content.decode()
    response = login(pi).post(DECISIONS, {"action": "sign_resume", "meaning": "on", "password": password})
    assert response.status_code == 302
    assert get_study().phase == Study.Phase.RUN_IN


# --- Halted and terminated block enrollment ---------------------------------------------


@pytest.mark.parametrize("terminate", [False, True], ids=["halted", "terminated"])
def test_enrollment_is_409_when_halted_or_terminated(terminate, halted, sh01, coordinator, pi, password, api):
    if terminate:
        confirm_termination(user=pi, password=password, reason="Stopping rule met")
    screening = make_screening(site=sh01, user=coordinator)
    before = Participant.objects.count()
    response = api(coordinator).post(f"/api/v1/screenings/{screening.pk}/enroll/", format="json")
    assert response.status_code == 409, response.content
    assert "detail" in response.json()
    assert Participant.objects.count() == before
    assert not Participant.objects.filter(screening=screening).exists()


def test_enrollment_reopens_after_resume(corrected, sh01, coordinator, admin_user, pi, password, api):
    request_resume(user=admin_user, reason="Corrected")
    resume_study(user=pi, password=password)
    screening = make_screening(site=sh01, user=coordinator)
    response = api(coordinator).post(f"/api/v1/screenings/{screening.pk}/enroll/", format="json")
    assert response.status_code == 201, response.content
    assert response.json()["cohort"] == "run_in"


def test_terminated_study_cannot_be_resumed(halted, investigator, pi, admin_user, password):
    confirm_termination(user=pi, password=password, reason="Stopping rule met")
    correct_below_threshold(halted[1], investigator, password)
    before = state()
    with pytest.raises(PhaseTransitionRefused):
        request_resume(user=admin_user, reason="Changed our mind")
    assert get_study().phase == Study.Phase.TERMINATED
    assert state() == before


# --- The decisions page -----------------------------------------------------------------


def test_pi_sees_the_open_randomization_form(run_in, pi, login):
    response = login(pi).get(DECISIONS)
    assert response.status_code == 200
    assert "open_randomization" in response.context["forms"]
    html = response.content.decode()
    assert 'value="open_randomization"' in html
    assert 'type="password"' in html
    assert OPEN_RANDOMIZATION_MEANING in html


def test_page_wrong_password_shows_the_error_on_the_password_field(run_in, pi, login):
    before = state()
    response = login(pi).post(DECISIONS, {"action": "open_randomization", "meaning": "on", "password": "wrong"})
    assert response.status_code == 403
    form = response.context["forms"]["open_randomization"]
    assert "password" in form.errors
    assert "password is not correct" in form.errors["password"][0]
    assert "password is not correct" in response.content.decode()
    assert state() == before


def test_page_signature_needs_the_stated_meaning(run_in, pi, password, login):
    before = state()
    response = login(pi).post(DECISIONS, {"action": "open_randomization", "password": password})
    assert response.status_code == 200
    assert "meaning" in response.context["forms"]["open_randomization"].errors
    assert state() == before


def test_page_too_few_enrolled_shows_the_reason(sh01, coordinator, pi, password, login, study):
    Study.objects.filter(pk=1).update(run_in_min=3)
    make_participant(site=sh01, user=coordinator)
    before = state()
    response = login(pi).post(DECISIONS, {"action": "open_randomization", "meaning": "on", "password": password})
    assert response.status_code == 409
    assert "at least 3" in response.content.decode()
    assert state() == before


def test_page_pi_opens_randomization(run_in, pi, password, login):
    response = login(pi).post(DECISIONS, {"action": "open_randomization", "meaning": "on", "password": password})
    assert response.status_code == 302
    assert get_study().phase == Study.Phase.RANDOMIZATION
    assert ESignature.objects.filter(signer=pi, action="open_randomization").count() == 1


def test_page_pi_confirms_termination(halted, pi, password, login):
    response = login(pi).post(
        DECISIONS,
        {"action": "confirm_termination", "meaning": "on", "password": password, "reason": "Stopping rule met"},
    )
    assert response.status_code == 302
    assert get_study().phase == Study.Phase.TERMINATED


@pytest.mark.parametrize("role", ["coordinator", "investigator", "monitor"])
def test_decisions_page_is_403_for_roles_without_a_decision(role, run_in, request, login):
    assert login(request.getfixturevalue(role)).get(DECISIONS).status_code == 403


def test_admin_page_has_no_pi_forms(halted, admin_user, login):
    response = login(admin_user).get(DECISIONS)
    assert response.status_code == 200
    assert set(response.context["forms"]) == {"request_resume"}
