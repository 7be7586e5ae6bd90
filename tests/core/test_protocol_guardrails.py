"""Issue 16: no path around the stopping rule. The run-in limits and threshold are fixed from the
first enrollment (a PI-signed amendment changes them and re-evaluates the rule at once), a
halted study resumes only below the threshold in force at the halt, and e-signatures are
Part 11 signatures: server-fixed meaning, printed name, time, hash, and a wrong password
counts toward the sign-in lockout."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from scr_escc.exceptions import SignatureRefused
from scr_escc.models import Alert, ESignature, PhaseTransition, ProtocolAmendment, Study
from scr_escc.phases import amend_protocol
from scr_escc.selectors import get_study
from scr_escc.services import SCHEDULE_FIELDS, update_study_settings
from scr_escc.signatures import MEANINGS, content_hash
from tests.factories import PASSWORD, make_ae, make_participant

SETTINGS = "/study/settings/"
DECISIONS = "/study/decisions/"
AMEND = "/api/v1/study/amendments/"


def limits() -> tuple:
    study = get_study()
    return (study.run_in_min, study.run_in_max, study.stopping_threshold, study.phase, study.version)


@pytest.fixture
def enrolled(sh01, coordinator, pi, admin_user, study):
    return [make_participant(site=sh01, user=coordinator) for _ in range(2)]


@pytest.fixture
def halted_at_two(enrolled, coordinator):
    for participant in enrolled:
        make_ae(participant=participant, user=coordinator, grade=5, related="probable")
    assert (get_study().phase, get_study().treatment_related_grade5) == (Study.Phase.HALTED, 2)


def _settings_post(**changes) -> dict:
    study = get_study()
    data = {
        "run_in_min": study.run_in_min,
        "run_in_max": study.run_in_max,
        "stopping_threshold": study.stopping_threshold,
        "safety_contact_emails": "",
        "escalation_email": "",
        "two_factor_required": "on",
        **{f: getattr(study, f) for f in SCHEDULE_FIELDS},
        "default_language": study.default_language,
        "reason_for_change": "Change",
        "version": study.version,
    }
    return data | changes


# --- Limits: bounds before the first enrollment, fixed after it ----------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stopping_threshold": 0}, "stopping_threshold"),
        ({"run_in_min": 0}, "run_in_min"),
        ({"run_in_min": 26, "run_in_max": 25}, "run_in_min"),
    ],
    ids=["threshold_0", "min_0", "min_above_max"],
)
def test_limits_keep_their_bounds_before_the_first_enrollment(changes, field, admin_user, study):
    before = limits()
    with pytest.raises(ValidationError) as refusal:
        update_study_settings(user=admin_user, data=changes, reason="Setup")
    assert field in refusal.value.message_dict
    assert limits() == before


def test_limits_may_change_on_the_settings_page_before_the_first_enrollment(admin_user, login, study):
    response = login(admin_user).post(SETTINGS, _settings_post(stopping_threshold=3, reason_for_change="Setup"))
    assert response.status_code == 302
    assert get_study().stopping_threshold == 3


def test_threshold_is_fixed_on_the_settings_page_after_the_first_enrollment(enrolled, admin_user, login):
    before = limits()
    response = login(admin_user).post(SETTINGS, _settings_post(stopping_threshold=5))
    assert response.status_code == 200
    assert "protocol amendment" in response.context["form"].errors["stopping_threshold"][0]
    assert limits() == before


# --- The path that went around the rule ------------------------------------------------------


def test_halted_at_two_then_raised_threshold_then_resume_is_409_on_page_and_api(
    halted_at_two, admin_user, pi, login, api
):
    # The data manager cannot raise the threshold on the settings page…
    refused = login(admin_user).post(SETTINGS, _settings_post(stopping_threshold=5))
    assert "stopping_threshold" in refused.context["form"].errors
    # …and even a PI-signed amendment to 5 does not let the study resume: the threshold in
    # force at the halt was 2 and the count is still 2.
    amend_protocol(user=pi, password=PASSWORD, reference="v2.0", changes={"stopping_threshold": 5}, reason="DSMB")
    before = limits()
    api_answer = api(admin_user).post("/api/v1/study/resume/", {"reason": "Threshold is 5 now"}, format="json")
    page_answer = login(admin_user).post(DECISIONS, {"action": "request_resume", "reason": "Threshold is 5 now"})
    assert (api_answer.status_code, page_answer.status_code) == (409, 409)
    assert "threshold in force when it halted was 2" in api_answer.json()["detail"]
    assert limits() == before and get_study().resume_requested_at is None


# --- Protocol amendments ------------------------------------------------------------------------


def test_an_amendment_lowering_the_threshold_to_the_count_halts_at_once(enrolled, coordinator, pi, api):
    make_ae(participant=enrolled[0], user=coordinator, grade=5, related="possible")
    response = api(pi).post(
        AMEND,
        {"password": PASSWORD, "reference": "v1.1", "reason": "DSMB advice", "stopping_threshold": 1},
        format="json",
    )
    assert response.status_code == 200, response.content
    study = get_study()
    assert (study.phase, study.stopping_threshold, study.threshold_at_halt) == (Study.Phase.HALTED, 1, 1)
    assert Alert.objects.filter(kind=Alert.Kind.STOPPING_RULE_TRIGGERED).count() == 1
    halt = PhaseTransition.objects.get(to_phase="halted")
    assert Alert.objects.filter(key=f"phase_changed:{halt.pk}").exists()
    assert "amendment v1.1" in halt.reason


def test_an_amendment_is_signed_and_in_the_audit_trail(enrolled, pi):
    amendment = amend_protocol(
        user=pi, password=PASSWORD, reference="v1.2", changes={"run_in_max": 30}, reason="More sites"
    )
    signature = amendment.signature
    assert (amendment.changes, signature.signer, signature.action) == ({"run_in_max": [25, 30]}, pi, "amend_protocol")
    assert signature.meaning == MEANINGS[ESignature.Action.AMEND_PROTOCOL]
    latest = get_study().history.latest("history_date")
    assert (latest.run_in_max, latest.history_user, latest.history_change_reason) == (
        30,
        pi,
        "Protocol amendment v1.2: More sites",
    )


@pytest.mark.parametrize("role", ["admin_user", "coordinator", "investigator", "monitor"])
def test_only_the_pi_may_amend(role, enrolled, request, api):
    user = request.getfixturevalue(role)
    before = limits()
    with pytest.raises(PermissionDenied):
        amend_protocol(user=user, password=PASSWORD, reference="x", changes={"stopping_threshold": 3}, reason="x")
    body = {"password": PASSWORD, "reference": "x", "reason": "x", "stopping_threshold": 3}
    assert api(user).post(AMEND, body, format="json").status_code == 403
    assert (limits(), ProtocolAmendment.objects.count()) == (before, 0)


def test_an_amendment_with_a_wrong_password_changes_nothing(enrolled, pi, api):
    before = limits()
    body = {"password": "wrong", "reference": "v3", "reason": "x", "stopping_threshold": 3}
    assert api(pi).post(AMEND, body, format="json").status_code == 403
    assert (limits(), ProtocolAmendment.objects.count(), ESignature.objects.count()) == (before, 0, 0)


# --- E-signatures (Part 11 §11.50, §11.200) -----------------------------------------------------


def test_the_api_cannot_send_its_own_meaning(sh01, coordinator, pi, api, study):
    Study.objects.filter(pk=1).update(run_in_min=1)
    make_participant(site=sh01, user=coordinator)
    body = {"password": PASSWORD, "meaning": "I agree to nothing"}
    assert api(pi).post("/api/v1/study/open-randomization/", body, format="json").status_code == 200
    assert ESignature.objects.get().meaning == MEANINGS[ESignature.Action.OPEN_RANDOMIZATION]


def test_a_signature_stores_printed_name_meaning_time_and_the_hash_of_what_was_signed(enrolled, pi):
    pi.first_name, pi.last_name = "Wei", "Zhang"
    pi.save()
    amendment = amend_protocol(user=pi, password=PASSWORD, reference="v4", changes={"run_in_min": 21}, reason="r")
    signature = amendment.signature
    expected = content_hash(
        {
            "action": "amend_protocol",
            "signer": pi.pk,
            "content": {"reference": "v4", "changes": {"run_in_min": [20, 21]}, "reason": "r"},
        }
    )
    assert (signature.signer_name, signature.content_hash) == ("Wei Zhang", expected)
    assert signature.signed_at is not None


def test_the_decisions_page_shows_who_signed_what_and_its_hash(enrolled, pi, login):
    amendment = amend_protocol(user=pi, password=PASSWORD, reference="v5", changes={"run_in_min": 19}, reason="r")
    html = login(pi).get(DECISIONS).content.decode()
    assert amendment.signature.content_hash[:16] in html
    assert MEANINGS[ESignature.Action.AMEND_PROTOCOL] in html


def test_wrong_signing_passwords_count_toward_the_sign_in_lockout(enrolled, pi, client, api):
    signer = api(pi)
    body = {"password": "guess", "reference": "v9", "reason": "x", "stopping_threshold": 3}
    answers = [signer.post(AMEND, body, format="json") for _ in range(5)]
    assert [a.status_code for a in answers] == [403] * 5
    assert "locked" in answers[-1].json()["detail"]  # the fifth failure locks the account
    # The account is now locked: the right signing password is refused, and so is signing in.
    right = signer.post(AMEND, body | {"password": PASSWORD}, format="json")
    assert right.status_code == 403 and "locked" in right.json()["detail"]
    client.post("/accounts/login/", {"username": pi.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert get_study().stopping_threshold == 2


def test_a_service_signature_without_a_request_still_checks_the_password(enrolled, pi):
    with pytest.raises(SignatureRefused):
        amend_protocol(user=pi, password="nope", reference="v", changes={"run_in_min": 3}, reason="r")
