"""Enrollment (SPEC §3): subject IDs, cohort from the phase, refusals with a reason, withdrawal, re-screening, audit."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from enrollment.models import Participant, Screening
from enrollment.services import (
    EnrollmentRefused,
    create_screening,
    enroll_participant,
    update_screening,
)
from scr_escc.exceptions import StudyHalted
from scr_escc.models import Study
from tests.factories import eligible_screening_data, make_participant, make_screening


def enroll_url(screening) -> str:
    return f"/api/v1/screenings/{screening.pk}/enroll/"


def test_enrolling_gives_the_sites_next_subject_id_and_the_run_in_cohort(api, coordinator, sh01, study):
    first, second = (make_screening(site=sh01, user=coordinator) for _ in range(2))
    response = api(coordinator).post(enroll_url(first))
    assert response.status_code == 201
    assert response.json() == {
        "subject_id": "SH01-001",
        "cohort": "run_in",
        "enrollment_date": timezone.localdate().isoformat(),
    }
    assert api(coordinator).post(enroll_url(second)).json()["subject_id"] == "SH01-002"


def test_each_site_numbers_its_own_subjects(sh01, sh02, coordinator, coordinator_sh02, study):
    assert make_participant(site=sh01, user=coordinator).subject_id == "SH01-001"
    assert make_participant(site=sh02, user=coordinator_sh02).subject_id == "SH02-001"
    assert make_participant(site=sh01, user=coordinator).subject_id == "SH01-002"


def test_in_the_randomization_phase_the_cohort_is_randomized(sh01, coordinator, study):
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    assert make_participant(site=sh01, user=coordinator).cohort == "randomized"


def _refusal(api, login, user, screening) -> tuple[dict, str]:
    response = api(user).post(enroll_url(screening))
    assert response.status_code == 409, response.content
    page = login(user).post(f"/screenings/{screening.pk}/enroll/", follow=True)
    return response.json(), page.content.decode()


def test_an_ineligible_screening_is_refused_with_its_failed_criteria(api, login, coordinator, sh01, study):
    screening = make_screening(site=sh01, user=coordinator, exc9=True)
    body, page = _refusal(api, login, coordinator, screening)
    assert body == {"detail": "Not eligible: failed EXC9."}
    assert "Not eligible: failed EXC9." in page
    assert not Participant.objects.exists()


def test_enrolling_twice_is_refused_and_names_the_subject(api, login, coordinator, sh01, study):
    screening = make_screening(site=sh01, user=coordinator)
    enroll_participant(screening=screening, user=coordinator)
    body, page = _refusal(api, login, coordinator, screening)
    assert "already enrolled as SH01-001" in body["detail"] and "already enrolled as SH01-001" in page
    assert Participant.objects.count() == 1


def test_a_full_run_in_is_refused(api, login, coordinator, sh01, study):
    Study.objects.filter(pk=1).update(run_in_min=1, run_in_max=2)
    for _ in range(2):
        make_participant(site=sh01, user=coordinator)
    screening = make_screening(site=sh01, user=coordinator)
    body, page = _refusal(api, login, coordinator, screening)
    assert "run-in is full (2 of 2)" in body["detail"] and "run-in is full (2 of 2)" in page
    assert Participant.objects.count() == 2


@pytest.mark.parametrize("phase, words", [("halted", "halted"), ("terminated", "terminated")])
def test_a_halted_or_terminated_study_refuses_enrollment(phase, words, api, login, coordinator, sh01, study):
    screening = make_screening(site=sh01, user=coordinator)
    Study.objects.filter(pk=1).update(phase=phase)
    body, page = _refusal(api, login, coordinator, screening)
    assert words in body["detail"] and words in page
    with pytest.raises(StudyHalted):
        enroll_participant(screening=screening, user=coordinator)
    assert not Participant.objects.exists()


def test_a_refused_enrollment_burns_no_subject_number(sh01, coordinator, study):
    make_participant(site=sh01, user=coordinator)
    with pytest.raises(EnrollmentRefused):
        enroll_participant(screening=make_screening(site=sh01, user=coordinator, inc4=False), user=coordinator)
    assert make_participant(site=sh01, user=coordinator).subject_id == "SH01-002"


def test_site_staff_only_may_enroll(api, login, pi, monitor, coordinator, sh01, study):
    screening = make_screening(site=sh01, user=coordinator)
    for reader in (pi, monitor):
        assert api(reader).post(enroll_url(screening)).status_code == 403
        assert login(reader).post(f"/screenings/{screening.pk}/enroll/").status_code == 403
    assert not Participant.objects.exists()


def test_withdrawal_needs_a_date_and_reason_and_is_kept(api, login, coordinator, sh01, study):
    participant = make_participant(site=sh01, user=coordinator)
    today = timezone.localdate().isoformat()
    url = f"/api/v1/participants/{participant.subject_id}/withdraw/"
    assert api(coordinator).post(url, {"withdrawal_date": today}, format="json").status_code == 400
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = api(coordinator).post(url, {"withdrawal_date": future, "withdrawal_reason": "x"}, format="json")
    assert response.status_code == 400 and "withdrawal_date" in response.json()
    page = login(coordinator).post(
        f"/participants/{participant.subject_id}/withdraw/",
        {"withdrawal_date": today, "withdrawal_reason": "Patient's choice"},
        follow=True,
    )
    assert "withdrawn" in page.content.decode()
    participant.refresh_from_db()
    assert participant.status == "withdrawn" and participant.withdrawal_reason == "Patient's choice"
    assert participant.history.first().history_change_reason == "Withdrawn: Patient's choice"
    again = api(coordinator).post(url, {"withdrawal_date": today, "withdrawal_reason": "again"}, format="json")
    assert again.status_code == 400


def test_re_screening_a_screen_failure_links_the_earlier_screening(api, coordinator, sh01, study):
    failed = make_screening(site=sh01, user=coordinator, inc3=False, ecog=2)
    payload = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in eligible_screening_data().items()}
    response = api(coordinator).post("/api/v1/screenings/", payload | {"previous_screening": failed.pk}, format="json")
    assert response.status_code == 201 and response.json()["eligible"] is True
    again = Screening.objects.get(pk=response.json()["id"])
    assert again.previous_screening == failed and failed.rescreening == again
    second = api(coordinator).post("/api/v1/screenings/", payload | {"previous_screening": failed.pk}, format="json")
    assert second.status_code == 400 and "previous_screening" in second.json()


def test_an_eligible_screening_cannot_be_re_screened(sh01, coordinator, study):
    eligible = make_screening(site=sh01, user=coordinator)
    with pytest.raises(ValidationError) as refused:
        create_screening(site=sh01, data=eligible_screening_data(), user=coordinator, previous_screening=eligible)
    assert "previous_screening" in refused.value.message_dict


def test_a_screening_edit_needs_a_reason_and_keeps_old_and_new_values(login, coordinator, sh01, study):
    screening = make_screening(site=sh01, user=coordinator)
    with pytest.raises(ValidationError) as refused:
        update_screening(screening=screening, data={"pgsga_score": 5}, user=coordinator, reason="")
    assert "reason_for_change" in refused.value.message_dict
    update_screening(screening=screening, data={"pgsga_score": 5}, user=coordinator, reason="Transcription error")
    latest, previous = screening.history.all()[:2]
    assert (previous.pgsga_score, latest.pgsga_score) == (4, 5)
    assert latest.history_change_reason == "Transcription error" and latest.history_user == coordinator
    page = login(coordinator).get(f"/screenings/{screening.pk}/history/").content.decode()
    assert "Transcription error" in page


def test_an_enrolled_patients_screening_cannot_be_edited_into_ineligible(sh01, coordinator, study):
    participant = make_participant(site=sh01, user=coordinator)
    with pytest.raises(ValidationError):
        update_screening(screening=participant.screening, data={"exc9": True}, user=coordinator, reason="x")
    participant.screening.refresh_from_db()
    assert participant.screening.eligible is True


def test_screenings_and_participants_are_never_deleted(sh01, coordinator, study):
    participant = make_participant(site=sh01, user=coordinator)
    with pytest.raises(ValidationError):
        participant.screening.delete()
    assert Screening.objects.count() == 1


def test_participant_list_filters_by_cohort_and_status_and_sorts(login, coordinator, sh01, study):
    run_in = make_participant(site=sh01, user=coordinator)
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    randomized = make_participant(site=sh01, user=coordinator)
    client = login(coordinator)
    body = client.get("/participants/?cohort=randomized").content.decode()
    assert randomized.subject_id in body and run_in.subject_id not in body
    body = client.get("/participants/?sort=-subject_id").content.decode()
    assert body.index(randomized.subject_id) < body.index(run_in.subject_id)
    assert client.get("/api/v1/participants/?cohort=run_in").json()["count"] == 1
