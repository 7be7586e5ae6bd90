"""Regressions found by an adversarial review: each guards a way around the stopping rule, the
two-person resume, the second factor or the de-identified exports."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from knox.models import AuthToken

from safety.models import CtcaeTerm
from safety.services import record_adverse_event, void_adverse_event
from scr_escc import accounts, phases
from scr_escc.exceptions import PhaseTransitionRefused
from scr_escc.models import Study
from scr_escc.selectors import get_study
from tests.factories import PASSWORD, ae_data, give_authenticator, make_ae, make_participant

TYPED = "Mr Zhang Wei fell at his Hongqiao home"


def _death(site, user):
    return make_ae(participant=make_participant(site=site, user=user), user=user, grade=5, related="possible")


def _csv(api, admin_user, name):
    response = api(admin_user).get(f"/api/v1/exports/{name}.csv?deidentified=1")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


# --- The stopping rule and the two-person resume -----------------------------------------------


def test_regrading_a_signed_ae_to_grade5_needs_a_new_sign_off_and_counts(sh01, coordinator, investigator, api, study):
    ae = make_ae(participant=make_participant(site=sh01, user=coordinator), user=coordinator, grade=1)
    url = f"/api/v1/adverse-events/{ae.pk}/sign-attribution/"
    assert api(investigator).post(url, {"password": PASSWORD, "version": 1}, format="json").status_code == 200
    body = {
        "grade": 5,
        "outcome": "fatal",
        "death_date": timezone.localdate().isoformat(),
        "serious": True,
        "seriousness_criteria": ["death"],
        "ongoing": False,
        "end_date": None,
        "reason_for_change": "The patient died",
        "version": 2,
    }
    assert api(coordinator).patch(f"/api/v1/adverse-events/{ae.pk}/", body, format="json").status_code == 200
    ae.refresh_from_db()
    assert (ae.attribution_signature, get_study().treatment_related_grade5) == (None, 1)


def test_no_resume_while_an_amendment_made_during_the_halt_puts_the_count_at_the_threshold(
    sh01, coordinator, admin_user, pi, study
):
    _death(sh01, coordinator)
    second = _death(sh01, coordinator)
    void_adverse_event(ae=second, user=coordinator, reason="Entered for the wrong participant")
    phases.amend_protocol(user=pi, password=PASSWORD, reference="v2", changes={"stopping_threshold": 1}, reason="r")
    with pytest.raises(PhaseTransitionRefused):
        phases.request_resume(user=admin_user, reason="Data error corrected")
    assert get_study().phase == Study.Phase.HALTED


def test_the_pi_who_signs_a_resume_cannot_be_the_one_who_asked(sh01, coordinator, admin_user, api, study):
    _death(sh01, coordinator)
    void_adverse_event(ae=_death(sh01, coordinator), user=coordinator, reason="Duplicate")
    client = api(admin_user)
    assert client.post("/api/v1/study/resume/", {"reason": "Duplicate voided"}, format="json").status_code == 200
    promote = client.patch(f"/api/v1/users/{admin_user.pk}/", {"role": "pi", "reason": "x"}, format="json")
    assert promote.status_code == 400 and list(promote.json()) == ["role"]
    assert client.post("/api/v1/study/resume/sign/", {"password": PASSWORD}, format="json").status_code == 403
    assert get_study().phase == Study.Phase.HALTED


def test_a_data_manager_cannot_reset_their_own_password(admin_user):
    with pytest.raises(ValidationError):
        accounts.reset_password(by=admin_user, user=admin_user, reason="x")


# --- The second factor ------------------------------------------------------------------------------


def test_a_stolen_password_alone_cannot_change_the_password(pi, client, api, study):
    give_authenticator(pi)
    token = api(pi)
    client.force_login(pi)  # the password only, no authenticator
    new = "Attacker-Chose-99!"
    response = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password": new, "new_password_again": new}
    )
    assert response.status_code == 302 and response.url.startswith("/accounts/two-factor/")
    pi.refresh_from_db()
    assert pi.check_password(PASSWORD) and AuthToken.objects.filter(user=pi).count() == 1
    assert token.get("/api/v1/study/").status_code == 200


# --- The de-identified exports ------------------------------------------------------------------------


@pytest.fixture
def typed_ae(sh01, coordinator, study):
    other = CtcaeTerm.objects.filter(term__endswith="- Other, specify").first()
    participant = make_participant(site=sh01, user=coordinator)
    return record_adverse_event(
        participant=participant, data=ae_data(ctcae_term=other, other_specify=TYPED), user=coordinator
    )


@pytest.mark.parametrize("dataset", ["adverse_events", "audit"])
def test_typed_event_text_never_leaves_in_the_deidentified_exports(dataset, typed_ae, api, admin_user):
    assert not any(TYPED in value for row in _csv(api, admin_user, dataset) for value in row.values())


def test_phase_change_reasons_are_redacted_in_the_deidentified_audit(sh01, coordinator, api, admin_user, study):
    _death(sh01, coordinator)
    _death(sh01, coordinator)
    phase_rows = [r for r in _csv(api, admin_user, "audit") if r["ACTION"] == "phase_changed"]
    assert phase_rows and {r["REASON"] for r in phase_rows} == {"(redacted)"}


def test_no_real_date_in_the_deidentified_audit_labels(sh01, coordinator, api, admin_user, study):
    participant = make_participant(site=sh01, user=coordinator)
    day = timezone.localdate() - timedelta(days=1)
    body = {
        "subject_id": participant.subject_id,
        "deviation_date": day.isoformat(),
        "category": "other",
        "description": "x",
    }
    assert api(coordinator).post("/api/v1/deviations/", body, format="json").status_code == 201
    rows = [r for r in _csv(api, admin_user, "audit") if r["RECTYPE"] == "deviation"]
    assert rows and not any(day.isoformat() in r["RECLABEL"] for r in rows)


def test_a_patient_has_one_offset_in_the_screening_log_and_the_participants(sh01, coordinator, api, admin_user, study):
    participant = make_participant(site=sh01, user=coordinator)
    screening = _csv(api, admin_user, "screening")[0]["RFICDTC"]
    enrolled = _csv(api, admin_user, "participants")[0]["RFICDTC"]
    assert screening == enrolled != participant.screening.consent_date.isoformat()


def test_audit_times_of_a_participant_move_with_the_participants_dates(sh01, coordinator, api, admin_user, study):
    participant = make_participant(site=sh01, user=coordinator)
    real = date.fromisoformat(_csv(api, admin_user, "participants")[0]["ENRLDTC"]) - participant.enrollment_date
    created = next(r for r in _csv(api, admin_user, "audit") if r["RECTYPE"] == "participant")
    moved = date.fromisoformat(created["AUDITDTC"][:10]) - timezone.now().date()
    assert moved == real
