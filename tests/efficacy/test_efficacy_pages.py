"""The efficacy pages: thin doors onto the services. The site's coordinator works, another site's
coordinator gets 404, a monitor's POST 403; the worklist is the home page of site staff."""

from decimal import Decimal

import pytest

from efficacy.assessments import record_baseline
from efficacy.followup import record_clinical_progression, record_contact, record_new_therapy
from efficacy.models import (
    ClinicalProgression,
    FollowUpContact,
    NewAnticancerTherapy,
    RadiotherapyCourse,
    SystemicDose,
    TumourAssessment,
)
from efficacy.treatment import record_course, record_cycle
from tests.efficacy.conftest import ago, course_data, cycle_doses, enrolled, three_targets

KINDS = ("dose", "radiotherapy", "clinical-progression", "new-therapy", "follow-up-contact")
MODELS = {
    "dose": SystemicDose,
    "radiotherapy": RadiotherapyCourse,
    "clinical-progression": ClinicalProgression,
    "new-therapy": NewAnticancerTherapy,
    "follow-up-contact": FollowUpContact,
}


@pytest.fixture
def records(run_in, coordinator) -> dict:
    """One record of each kind for the SH01 run-in participant, and its baseline assessment."""
    found = {"dose": record_cycle(participant=run_in, cycle=1, doses=cycle_doses(ago(20)), user=coordinator)[0]}
    found["radiotherapy"] = record_course(participant=run_in, data=course_data(), user=coordinator)
    found["clinical-progression"] = record_clinical_progression(
        participant=run_in, data={"progression_date": ago(2), "reason": "Dysphagia"}, user=coordinator
    )
    found["new-therapy"] = record_new_therapy(
        participant=run_in, data={"start_date": ago(1), "kind": "systemic", "therapy": "Irinotecan"}, user=coordinator
    )
    found["follow-up-contact"] = record_contact(
        participant=run_in, data={"contact_date": ago(1), "method": "phone", "notes": ""}, user=coordinator
    )
    found["assessment"] = record_baseline(
        participant=run_in,
        data={"assessment_date": ago(62), "method": "ct", "comments": ""},
        targets=three_targets(),
        non_targets=[],
        user=coordinator,
    )
    return found


def _urls(records) -> dict[str, str]:
    """Every detail, edit, void and history page of every record kind."""
    urls = {}
    for kind in KINDS:
        pk = records[kind].pk
        urls[f"{kind}-detail"] = f"/efficacy/{kind}/{pk}/"
        for page in ("edit", "void", "history"):
            urls[f"{kind}-{page}"] = f"/efficacy/{kind}/{pk}/{page}/"
    pk = records["assessment"].pk
    urls["assessment-detail"] = f"/assessments/{pk}/"
    for page in ("edit", "void", "history"):
        urls[f"assessment-{page}"] = f"/assessments/{pk}/{page}/"
    return urls


def _codes(client, urls, method="get", data=None) -> dict[str, int]:
    return {name: getattr(client, method)(url, data or {}).status_code for name, url in urls.items()}


def test_every_record_page_answers_200_for_the_sites_coordinator(records, coordinator, login):
    codes = _codes(login(coordinator), _urls(records))
    assert codes == dict.fromkeys(codes, 200)


def test_every_record_page_is_404_for_another_sites_coordinator(records, coordinator_sh02, login):
    codes = _codes(login(coordinator_sh02), _urls(records))
    assert codes == dict.fromkeys(codes, 404)


def test_another_sites_coordinator_posting_changes_nothing(records, coordinator_sh02, login):
    client = login(coordinator_sh02)
    writes = {name: url for name, url in _urls(records).items() if name.endswith(("-edit", "-void"))}
    codes = _codes(client, writes, "post", {"reason": "Not mine", "reason_for_change": "Not mine", "version": 1})
    versions = {kind: MODELS[kind].objects.get(pk=records[kind].pk).version for kind in KINDS}
    assert (codes, versions) == (dict.fromkeys(codes, 404), dict.fromkeys(KINDS, 1))


def test_a_monitors_post_is_403_and_changes_nothing(records, monitor, login):
    client = login(monitor)
    writes = {name: url for name, url in _urls(records).items() if name.endswith(("-edit", "-void"))}
    sid = records["dose"].participant.subject_id
    writes["cycle-create"] = f"/participants/{sid}/cycles/new/"
    writes["contact-create"] = f"/participants/{sid}/follow-up-contact/new/"
    codes = _codes(client, writes, "post", {"reason": "Monitor", "reason_for_change": "Monitor", "version": 1})
    assert (codes, FollowUpContact.objects.count(), SystemicDose.objects.filter(voided=True).count()) == (
        dict.fromkeys(codes, 403),
        1,
        0,
    )


def test_the_participant_page_shows_the_efficacy_panel(records, coordinator, login):
    page = login(coordinator).get(f"/participants/{records['dose'].participant.subject_id}/").content.decode()
    assert 'data-testid="efficacy-panel"' in page and 'data-testid="doses"' in page


def _cycle_post(day) -> dict:
    data = {"cycle": "1"}
    for agent, unit in (("pd1", "mg"), ("paclitaxel", "mg/m2"), ("platinum", "AUC")):
        data.update(
            {
                f"{agent}__administered_on": day.isoformat(),
                f"{agent}__change": "as_planned",
                f"{agent}__dose": "200",
                f"{agent}__unit": unit,
                f"{agent}__change_reason": "",
            }
        )
    return data


def test_the_cycle_form_records_three_doses_and_goes_back_to_the_participant(run_in, coordinator, login):
    response = login(coordinator).post(f"/participants/{run_in.subject_id}/cycles/new/", _cycle_post(ago(3)))
    assert (response.status_code, response["Location"], SystemicDose.objects.filter(cycle=1).count()) == (
        302,
        f"/participants/{run_in.subject_id}/#efficacy",
        3,
    )


def test_a_refused_cycle_form_shows_the_error_and_saves_nothing(run_in, coordinator, login):
    data = _cycle_post(ago(3)) | {"platinum__change": "reduced"}
    response = login(coordinator).post(f"/participants/{run_in.subject_id}/cycles/new/", data)
    errors = response.context["form"].errors
    assert (response.status_code, list(errors), SystemicDose.objects.count()) == (200, ["platinum__change_reason"], 0)


def _baseline_post() -> dict:
    data = {"assessment_date": ago(62).isoformat(), "method": "ct", "comments": ""}
    for i, (organ, size) in enumerate((("liver", 30), ("lung", 20), ("adrenal", 10)), start=1):
        data.update({f"t{i}_organ": organ, f"t{i}_location": "", f"t{i}_diameter_mm": str(size)})
    return data


def test_the_baseline_form_with_three_targets_records_their_sum(run_in, coordinator, login):
    client = login(coordinator)
    response = client.post(f"/participants/{run_in.subject_id}/baseline/new/", _baseline_post(), follow=True)
    baseline = TumourAssessment.objects.get()
    assert (response.redirect_chain[-1][0], baseline.sum_mm, baseline.lesions.count()) == (
        f"/assessments/{baseline.pk}/",
        Decimal("60"),
        3,
    )
    assert "sum of diameters 60.0 mm" in response.content.decode()


def test_the_follow_up_form_records_the_scan_and_shows_the_computed_response(run_in, coordinator, login):
    client = login(coordinator)
    client.post(f"/participants/{run_in.subject_id}/baseline/new/", _baseline_post())
    data = {
        "assessment_date": ago(18).isoformat(),
        "method": "ct",
        "new_lesion": "no",
        "new_lesion_description": "",
        "investigator_response": "SD",
        "lesion_T1": "20",
        "lesion_T2": "14",
        "lesion_T3": "7",
    }
    response = client.post(f"/participants/{run_in.subject_id}/assessments/new/", data, follow=True)
    scan = TumourAssessment.objects.get(baseline=False)
    page = response.content.decode()
    assert (scan.computed_response, scan.sum_mm) == ("PR", Decimal("41"))
    assert 'data-testid="disagreement"' in page and "Computed response: PR" in page


def test_a_record_page_form_creates_the_record(run_in, coordinator, login):
    data = {"contact_date": ago(2).isoformat(), "method": "visit", "notes": ""}
    response = login(coordinator).post(f"/participants/{run_in.subject_id}/follow-up-contact/new/", data)
    assert (response.status_code, FollowUpContact.objects.get().contact_date) == (302, ago(2))


def test_the_edit_page_corrects_with_a_reason(records, coordinator, login):
    contact = records["follow-up-contact"]
    data = {"contact_date": ago(2).isoformat(), "method": "visit", "notes": "", "version": 1}
    response = login(coordinator).post(
        f"/efficacy/follow-up-contact/{contact.pk}/edit/", data | {"reason_for_change": "Wrong day"}
    )
    contact.refresh_from_db()
    assert (response.status_code, contact.contact_date, contact.version) == (302, ago(2), 2)


def test_the_void_page_voids_and_keeps_the_record(records, coordinator, login):
    therapy = records["new-therapy"]
    response = login(coordinator).post(
        f"/efficacy/new-therapy/{therapy.pk}/void/", {"reason": "Wrong patient", "version": 1}
    )
    therapy.refresh_from_db()
    assert (response.status_code, therapy.voided, NewAnticancerTherapy.objects.count()) == (302, True, 1)


def test_a_coordinators_home_page_shows_the_worklist(sh01, coordinator, login, study):
    enrolled(site=sh01, user=coordinator, days_ago=50)
    page = login(coordinator).get("/").content.decode()
    assert 'data-testid="worklist"' in page and f"{ago(15):%Y-%m-%d} – {ago(1):%Y-%m-%d}" in page


def test_a_pis_home_page_has_no_worklist(pi, login, study):
    response = login(pi).get("/")
    assert (response.status_code, 'data-testid="worklist"' in response.content.decode()) == (200, False)


def test_the_worklist_page_answers_for_site_staff(sh01, coordinator, login, study):
    enrolled(site=sh01, user=coordinator, days_ago=50)
    page = login(coordinator).get("/worklist/").content.decode()
    assert 'data-testid="visit-status"' in page


def test_the_dose_edit_page_corrects_the_dose(records, coordinator, login):
    dose = records["dose"]
    data = {
        "cycle": "1",
        "agent": dose.agent,
        "administered_on": dose.administered_on.isoformat(),
        "change": "reduced",
        "dose": "150",
        "unit": "mg",
        "change_reason": "Neutropenia",
        "version": "1",
        "reason_for_change": "Dose was reduced",
    }
    response = login(coordinator).post(f"/efficacy/dose/{dose.pk}/edit/", data)
    dose.refresh_from_db()
    assert (response.status_code, dose.dose, dose.change, dose.version) == (302, Decimal("150"), "reduced", 2)


def test_the_radiotherapy_page_refuses_arm_b_on_the_modality_field(randomized, coordinator, login):
    participant = randomized("B")
    data = {
        "modality": "ldrt",
        "start_date": ago(0).isoformat(),
        "end_date": "",
        "total_dose_gy": "4",
        "fractions": "2",
        "target_site": "Primary",
    }
    response = login(coordinator).post(f"/participants/{participant.subject_id}/radiotherapy/new/", data)
    errors = response.context["form"].errors
    assert (response.status_code, list(errors), RadiotherapyCourse.objects.count()) == (200, ["modality"], 0)


def test_the_baseline_edit_page_corrects_a_measurement_and_rescored_sum(records, coordinator, login):
    baseline = records["assessment"]
    data = {
        "assessment_date": baseline.assessment_date.isoformat(),
        "method": "ct",
        "comments": "",
        "lesion_T1": "40",
        "lesion_T2": "20",
        "lesion_T3": "10",
        "version": "1",
        "reason_for_change": "T1 misread",
    }
    response = login(coordinator).post(f"/assessments/{baseline.pk}/edit/", data)
    baseline.refresh_from_db()
    assert (response.status_code, baseline.sum_mm, baseline.version) == (302, Decimal("70"), 2)


def test_the_follow_up_edit_page_corrects_and_rescores(records, coordinator, login):
    client = login(coordinator)
    sid = records["assessment"].participant.subject_id
    scan = {
        "assessment_date": ago(18).isoformat(),
        "method": "ct",
        "new_lesion": "no",
        "new_lesion_description": "",
        "investigator_response": "SD",
        "lesion_T1": "25",
        "lesion_T2": "15",
        "lesion_T3": "5",
    }
    client.post(f"/participants/{sid}/assessments/new/", scan)
    follow_up = TumourAssessment.objects.get(baseline=False)
    changed = scan | {"lesion_T1": "20", "lesion_T2": "14", "lesion_T3": "7", "investigator_response": "PR"}
    response = client.post(
        f"/assessments/{follow_up.pk}/edit/", changed | {"version": "1", "reason_for_change": "Re-read"}
    )
    follow_up.refresh_from_db()
    assert (response.status_code, follow_up.sum_mm, follow_up.computed_response) == (302, Decimal("41"), "PR")


def test_voiding_a_baseline_with_follow_ups_on_the_page_shows_why_and_keeps_it(records, coordinator, login):
    client = login(coordinator)
    sid = records["assessment"].participant.subject_id
    scan = {
        "assessment_date": ago(18).isoformat(),
        "method": "ct",
        "new_lesion": "no",
        "investigator_response": "SD",
        "lesion_T1": "25",
        "lesion_T2": "15",
        "lesion_T3": "5",
    }
    client.post(f"/participants/{sid}/assessments/new/", scan)
    baseline = records["assessment"]
    response = client.post(f"/assessments/{baseline.pk}/void/", {"reason": "Wrong scan", "version": 1})
    baseline.refresh_from_db()
    assert (response.status_code, list(response.context["form"].errors), baseline.voided) == (200, ["reason"], False)
