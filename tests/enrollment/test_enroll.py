"""Enrollment (SPEC §3, §9): refusals with reasons, cohort from phase, subject IDs, withdrawal, re-screening, audit."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from enrollment.models import Participant, Screening, SiteCounter
from enrollment.services import create_screening, enroll_participant, update_screening
from scr_escc.exceptions import DomainError
from scr_escc.models import Study
from tests.factories import eligible_screening_data, make_participant, make_screening


def enroll_api(screening) -> str:
    return f"/api/v1/screenings/{screening.pk}/enroll/"


def enroll_page(screening) -> str:
    return f"/screenings/{screening.pk}/enroll/"


def form_post(data: dict) -> dict:
    def value(v):
        if isinstance(v, bool):
            return str(v)
        return v.isoformat() if hasattr(v, "isoformat") else v

    return {k: value(v) for k, v in data.items()}


def api_post(data: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


def error_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


def enrollment_state(site) -> tuple:
    counter = SiteCounter.objects.filter(site=site).first()
    return Participant.objects.count(), counter.last_subject if counter else 0


# --- refusals: a clear reason, 409 {"detail"} in the API, a message on the page, nothing saved ---


def _not_eligible(sh01, coordinator):
    return make_screening(site=sh01, user=coordinator, exc9=True)


def _already_enrolled(sh01, coordinator):
    return make_participant(site=sh01, user=coordinator).screening


def _run_in_full(sh01, coordinator):
    Study.objects.filter(pk=1).update(run_in_min=1, run_in_max=2)
    make_participant(site=sh01, user=coordinator)
    make_participant(site=sh01, user=coordinator)
    return make_screening(site=sh01, user=coordinator)


def _halted(sh01, coordinator):
    make_participant(site=sh01, user=coordinator)
    Study.objects.filter(pk=1).update(phase=Study.Phase.HALTED, phase_before_halt=Study.Phase.RUN_IN)
    return make_screening(site=sh01, user=coordinator)


def _terminated(sh01, coordinator):
    make_participant(site=sh01, user=coordinator)
    Study.objects.filter(pk=1).update(phase=Study.Phase.TERMINATED)
    return make_screening(site=sh01, user=coordinator)


REFUSALS = {
    "not_eligible": (_not_eligible, "Not eligible: failed EXC9."),
    "already_enrolled": (_already_enrolled, "already enrolled as SH01-001"),
    "run_in_full": (_run_in_full, "the safety run-in is full (2 of 2)"),
    "study_halted": (_halted, "the study is halted"),
    "study_terminated": (_terminated, "the study is terminated"),
}


@pytest.mark.parametrize("refusal", REFUSALS)
def test_api_refuses_enrollment_with_409_and_the_reason(refusal, api, coordinator, sh01, study):
    setup, reason = REFUSALS[refusal]
    screening = setup(sh01, coordinator)
    before = enrollment_state(sh01)
    response = api(coordinator).post(enroll_api(screening))
    assert response.status_code == 409, response.content
    assert list(response.json()) == ["detail"]
    assert reason in response.json()["detail"]
    assert enrollment_state(sh01) == before


@pytest.mark.parametrize("refusal", REFUSALS)
def test_page_refuses_enrollment_with_a_message(refusal, login, coordinator, sh01, study):
    setup, reason = REFUSALS[refusal]
    screening = setup(sh01, coordinator)
    before = enrollment_state(sh01)
    response = login(coordinator).post(enroll_page(screening), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/screenings/{screening.pk}/"
    assert any(reason in message for message in error_messages(response)), error_messages(response)
    assert reason in response.content.decode()
    assert enrollment_state(sh01) == before


def test_a_refused_enrollment_burns_no_subject_number(api, coordinator, sh01, study):
    refused = api(coordinator).post(enroll_api(make_screening(site=sh01, user=coordinator, exc2=True)))
    assert refused.status_code == 409
    assert enrollment_state(sh01) == (0, 0)
    response = api(coordinator).post(enroll_api(make_screening(site=sh01, user=coordinator)))
    assert response.json()["subject_id"] == "SH01-001"


def test_readers_may_not_enroll(api, login, pi, monitor, coordinator, sh01, study):
    screening = make_screening(site=sh01, user=coordinator)
    for reader in (pi, monitor):
        assert api(reader).post(enroll_api(screening)).status_code == 403
        assert login(reader).post(enroll_page(screening)).status_code == 403
    assert not Participant.objects.exists()


# --- cohort from the phase; subject IDs ---


@pytest.mark.parametrize(
    "phase, cohort, label",
    [(Study.Phase.RUN_IN, "run_in", "Safety run-in"), (Study.Phase.RANDOMIZATION, "randomized", "Randomized phase")],
)
def test_the_cohort_follows_the_study_phase(phase, cohort, label, api, login, coordinator, sh01, study):
    Study.objects.filter(pk=1).update(phase=phase)
    response = api(coordinator).post(enroll_api(make_screening(site=sh01, user=coordinator)))
    assert response.status_code == 201
    assert response.json() == {
        "subject_id": "SH01-001",
        "cohort": cohort,
        "enrollment_date": timezone.localdate().isoformat(),
    }
    page = login(coordinator).post(enroll_page(make_screening(site=sh01, user=coordinator)), follow=True)
    assert page.redirect_chain[-1][0] == "/participants/SH01-002/"
    assert f"Enrolled as SH01-002, cohort: {label}." in page.content.decode()
    assert list(Participant.objects.values_list("cohort", flat=True)) == [cohort, cohort]


def test_a_full_run_in_does_not_block_the_randomized_phase(sh01, coordinator, study):
    Study.objects.filter(pk=1).update(run_in_min=1, run_in_max=1)
    assert make_participant(site=sh01, user=coordinator).cohort == "run_in"
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    assert make_participant(site=sh01, user=coordinator).cohort == "randomized"


def test_the_run_in_cap_is_study_wide_not_per_site(sh01, sh02, coordinator, coordinator_sh02, api, study):
    Study.objects.filter(pk=1).update(run_in_min=1, run_in_max=2)
    make_participant(site=sh01, user=coordinator)
    make_participant(site=sh02, user=coordinator_sh02)
    screening = make_screening(site=sh02, user=coordinator_sh02)
    before = enrollment_state(sh02)
    response = api(coordinator_sh02).post(enroll_api(screening))
    assert response.status_code == 409 and "run-in is full" in response.json()["detail"]
    assert enrollment_state(sh02) == before and not Participant.objects.filter(screening=screening).exists()


def test_subject_ids_are_site_code_and_three_digits_in_sequence_per_site(
    sh01, sh02, coordinator, coordinator_sh02, study
):
    ids = [
        make_participant(site=sh01, user=coordinator).subject_id,
        make_participant(site=sh02, user=coordinator_sh02).subject_id,
        make_participant(site=sh01, user=coordinator).subject_id,
        make_participant(site=sh01, user=coordinator).subject_id,
    ]
    assert ids == ["SH01-001", "SH02-001", "SH01-002", "SH01-003"]
    assert all(re.fullmatch(r"SH0[12]-\d{3}", subject_id) for subject_id in ids)


def test_an_investigator_enrolls_too(api, investigator, sh01, study):
    response = api(investigator).post(enroll_api(make_screening(site=sh01, user=investigator)))
    assert response.status_code == 201 and response.json()["subject_id"] == "SH01-001"


# --- withdrawal: date and reason ---


def test_withdrawal_on_the_page_records_date_and_reason(login, coordinator, sh01, study):
    participant = make_participant(site=sh01, user=coordinator)
    today = timezone.localdate()
    client = login(coordinator)
    url = f"/participants/{participant.subject_id}/withdraw/"
    missing = client.post(url, {"withdrawal_date": today.isoformat(), "version": participant.version})
    assert missing.status_code == 200 and "withdrawal_reason" in missing.context["form"].errors
    participant.refresh_from_db()
    assert (participant.status, participant.withdrawal_date, participant.version) == ("on_study", None, 1)
    response = client.post(
        url,
        {
            "withdrawal_date": today.isoformat(),
            "withdrawal_reason": "Consent withdrawn",
            "version": participant.version,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/participants/{participant.subject_id}/"
    assert "Consent withdrawn" in response.content.decode()
    participant.refresh_from_db()
    assert (participant.status, participant.withdrawal_date, participant.withdrawal_reason) == (
        "withdrawn",
        today,
        "Consent withdrawn",
    )
    history = client.get(f"/participants/{participant.subject_id}/history/").content.decode()
    assert "Withdrawn: Consent withdrawn" in history


def test_withdrawal_through_the_api_needs_a_reason_and_a_date_not_in_the_future(api, coordinator, sh01, study):
    participant = make_participant(site=sh01, user=coordinator)
    url = f"/api/v1/participants/{participant.subject_id}/withdraw/"
    today = timezone.localdate()
    client = api(coordinator)
    no_reason = client.post(url, {"withdrawal_date": today.isoformat()}, format="json")
    assert no_reason.status_code == 400 and list(no_reason.json()) == ["withdrawal_reason"]
    tomorrow = (today + timedelta(days=1)).isoformat()
    future = client.post(url, {"withdrawal_date": tomorrow, "withdrawal_reason": "Moved away"}, format="json")
    assert future.status_code == 400 and list(future.json()) == ["withdrawal_date"]
    assert Participant.objects.values_list("status", "withdrawal_date", "version").get() == ("on_study", None, 1)
    done = client.post(url, {"withdrawal_date": today.isoformat(), "withdrawal_reason": "Moved away"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "withdrawn" and done.json()["withdrawal_date"] == today.isoformat()
    again = client.post(url, {"withdrawal_date": today.isoformat(), "withdrawal_reason": "twice"}, format="json")
    assert again.status_code == 400
    assert Participant.objects.values_list("withdrawal_reason", "withdrawal_date", "version").get() == (
        "Moved away",
        today,
        2,
    )


# --- re-screening ---


def test_re_screening_a_screen_failure_on_the_page_links_the_earlier_screening(login, coordinator, sh01, study):
    failed = make_screening(site=sh01, user=coordinator, ecog=2, inc3=False)
    client = login(coordinator)
    form = client.get(f"/screenings/{failed.pk}/rescreen/")
    assert form.status_code == 200 and "Re-screening of SH01-S0001" in form.content.decode()
    assert form.context["form"].initial["initials"] == "ZWL"
    post = form_post(eligible_screening_data()) | {"site": sh01.pk}
    response = client.post(f"/screenings/{failed.pk}/rescreen/", post, follow=True)
    again = Screening.objects.get(screening_number="SH01-S0002")
    assert response.redirect_chain[-1][0] == f"/screenings/{again.pk}/"
    assert again.previous_screening == failed and again.eligible is True
    assert "Re-screening of" in response.content.decode() and "SH01-S0001" in response.content.decode()
    assert "Re-screened as" in client.get(f"/screenings/{failed.pk}/").content.decode()


def test_re_screening_through_the_api_links_the_earlier_screening_once(api, coordinator, sh01, study):
    failed = make_screening(site=sh01, user=coordinator, exc3=True)
    payload = api_post(eligible_screening_data()) | {"previous_screening": failed.pk}
    response = api(coordinator).post("/api/v1/screenings/", payload, format="json")
    assert response.status_code == 201
    assert response.json()["previous_screening"] == failed.pk
    twice = api(coordinator).post("/api/v1/screenings/", payload, format="json")
    assert twice.status_code == 400 and list(twice.json()) == ["previous_screening"]
    assert Screening.objects.count() == 2


def test_only_a_screen_failure_can_be_re_screened(sh01, coordinator, study):
    eligible = make_screening(site=sh01, user=coordinator)
    with pytest.raises(ValidationError) as refused:
        create_screening(site=sh01, data=eligible_screening_data(), user=coordinator, previous_screening=eligible)
    assert list(refused.value.message_dict) == ["previous_screening"]
    assert Screening.objects.count() == 1


def test_a_re_screened_patient_cannot_be_enrolled_twice_through_the_superseded_screening(
    api, login, sh01, coordinator, study
):
    failed = make_screening(site=sh01, user=coordinator, exc3=True)
    again = create_screening(site=sh01, data=eligible_screening_data(), user=coordinator, previous_screening=failed)
    enroll_participant(screening=again, user=coordinator)
    update_screening(screening=failed, data={"exc3": False}, user=coordinator, reason="EXC3 was a typing error")
    with pytest.raises(DomainError, match="superseded by the re-screening SH01-S0002"):
        enroll_participant(screening=failed, user=coordinator)
    response = api(coordinator).post(f"/api/v1/screenings/{failed.pk}/enroll/")
    assert response.status_code == 409 and "superseded" in response.json()["detail"]
    page = login(coordinator).get(f"/screenings/{failed.pk}/").content.decode()
    assert 'data-testid="enroll"' not in page and "Re-screened as" in page
    assert Participant.objects.count() == 1


# --- edits: reason for change, history, stale versions; no hard delete ---


def test_a_screening_edit_on_the_page_needs_a_reason_and_leaves_history(login, coordinator, sh01, study):
    screening = make_screening(site=sh01, user=coordinator)
    client = login(coordinator)
    url = f"/screenings/{screening.pk}/edit/"
    changed = form_post(eligible_screening_data(exc7=True)) | {"version": screening.version}
    no_reason = client.post(url, changed)
    assert no_reason.status_code == 200 and "reason_for_change" in no_reason.context["form"].errors
    screening.refresh_from_db()
    assert (screening.exc7, screening.version, screening.history.count()) == (False, 1, 1)

    response = client.post(url, changed | {"reason_for_change": "Source document shows unstable angina"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/screenings/{screening.pk}/"
    screening.refresh_from_db()
    assert (screening.exc7, screening.eligible, screening.failed_criteria) == (True, False, ["EXC7"])
    assert screening.version == 2 and screening.history.count() == 2
    history = client.get(f"/screenings/{screening.pk}/history/").content.decode()
    assert "Source document shows unstable angina" in history and "coord1" in history
    assert re.search(r"<code>exc7</code>: <span[^>]*>False</span> → <span[^>]*>True</span>", history), history


def test_a_screening_edit_needs_a_reason_in_the_service(sh01, coordinator, study):
    screening = make_screening(site=sh01, user=coordinator)
    for blank in (None, "", "   "):
        with pytest.raises(ValidationError) as refused:
            update_screening(screening=screening, data={"pgsga_score": 5}, user=coordinator, reason=blank)
        assert list(refused.value.message_dict) == ["reason_for_change"]
    screening.refresh_from_db()
    assert screening.pgsga_score == 4 and screening.history.count() == 1


def test_a_stale_screening_edit_is_refused_not_overwritten(login, coordinator, investigator, sh01, study):
    screening = make_screening(site=sh01, user=coordinator)
    update_screening(
        screening=screening, data={"pgsga_score": 6}, user=investigator, reason="Re-scored", expected_version=1
    )
    stale = form_post(eligible_screening_data(pgsga_score=2)) | {"version": 1, "reason_for_change": "Typo"}
    response = login(coordinator).post(f"/screenings/{screening.pk}/edit/", stale)
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    screening.refresh_from_db()
    assert screening.pgsga_score == 6 and screening.version == 2


def test_an_enrolled_patients_screening_cannot_be_corrected_into_ineligible(sh01, coordinator, study):
    participant = make_participant(site=sh01, user=coordinator)
    with pytest.raises(ValidationError) as refused:
        update_screening(screening=participant.screening, data={"exc5": True}, user=coordinator, reason="Re-read")
    assert "EXC5" in " ".join(refused.value.message_dict["reason_for_change"])
    participant.screening.refresh_from_db()
    assert participant.screening.eligible is True and participant.screening.exc5 is False


def test_screenings_and_participants_cannot_be_deleted(api, login, coordinator, sh01, study):
    participant = make_participant(site=sh01, user=coordinator)
    screening = participant.screening
    client = api(coordinator)
    assert client.delete(f"/api/v1/screenings/{screening.pk}/").status_code == 405
    assert client.delete(f"/api/v1/participants/{participant.subject_id}/").status_code == 405
    patch = client.patch(f"/api/v1/screenings/{screening.pk}/", {"exc9": True}, format="json")
    assert patch.status_code == 405  # the API has no screening edit: corrections go through the page
    assert login(coordinator).post(f"/screenings/{screening.pk}/delete/").status_code == 404
    with pytest.raises(ValidationError):
        screening.delete()
    assert Screening.objects.filter(pk=screening.pk, exc9=False).exists()
    assert Participant.objects.filter(pk=participant.pk).exists()


# --- the participant list: filters and sorting ---


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
