"""The efficacy API: the same services as the pages, JSON field errors, site scope, roles."""

from datetime import timedelta

import pytest
from django.utils import timezone

from efficacy.models import LesionResult, SystemicDose, TumourAssessment
from tests.factories import make_participant

pytestmark = pytest.mark.django_db


def _dose(day, **changes):
    return {"administered_on": day.isoformat(), "change": "as_planned", "dose": "200", "unit": "mg", **changes}


@pytest.fixture
def run_in(sh01, coordinator, study):
    return make_participant(site=sh01, user=coordinator, enrollment_date=timezone.localdate() - timedelta(days=70))


def test_a_cycle_records_three_doses(api, coordinator, run_in):
    day = run_in.enrollment_date + timedelta(days=1)
    body = {"cycle": 1, "pd1": _dose(day), "paclitaxel": _dose(day, unit="mg/m2"), "platinum": _dose(day, unit="AUC")}
    response = api(coordinator).post(f"/api/v1/participants/{run_in.subject_id}/cycles/", body, format="json")
    assert response.status_code == 201
    assert sorted(d["agent"] for d in response.json()) == ["paclitaxel", "pd1", "platinum"]
    assert SystemicDose.objects.filter(participant=run_in).count() == 3


def test_a_cycle_with_one_bad_agent_saves_nothing_and_names_the_field(api, coordinator, run_in):
    day = run_in.enrollment_date + timedelta(days=1)
    body = {"cycle": 1, "pd1": _dose(day), "paclitaxel": _dose(day), "platinum": _dose(day, change="reduced")}
    response = api(coordinator).post(f"/api/v1/participants/{run_in.subject_id}/cycles/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["platinum__change_reason"]
    assert not SystemicDose.objects.filter(participant=run_in).exists()


def test_treatment_before_enrollment_is_a_field_error(api, coordinator, run_in):
    day = run_in.enrollment_date - timedelta(days=1)
    body = {"cycle": 1, "pd1": _dose(day), "paclitaxel": _dose(day), "platinum": _dose(day)}
    response = api(coordinator).post(f"/api/v1/participants/{run_in.subject_id}/cycles/", body, format="json")
    assert response.status_code == 400
    assert "pd1__administered_on" in response.json()
    assert not SystemicDose.objects.exists()


def _baseline(client, participant, day):
    return client.post(
        f"/api/v1/participants/{participant.subject_id}/tumour-assessments/",
        {
            "baseline": True,
            "assessment_date": day.isoformat(),
            "targets": [
                {"organ": "liver", "diameter_mm": 40},
                {"organ": "lung", "diameter_mm": 30},
                {"organ": "mediastinal node", "lymph_node": True, "diameter_mm": 20},
            ],
            "non_targets": [{"organ": "bone"}],
        },
        format="json",
    )


def test_baseline_and_follow_up_are_scored_by_the_software(api, coordinator, run_in):
    client = api(coordinator)
    baseline = _baseline(client, run_in, run_in.enrollment_date - timedelta(days=5))
    assert baseline.status_code == 201
    assert baseline.json()["sum_mm"] == "90.0"
    follow_up = client.post(
        f"/api/v1/participants/{run_in.subject_id}/tumour-assessments/",
        {
            "assessment_date": (run_in.enrollment_date + timedelta(days=42)).isoformat(),
            "targets": {"T1": 25, "T2": 20, "T3": 18},  # 63 mm: −30% exactly → PR
            "non_targets": {"NT1": "present"},
            "investigator_response": "SD",
        },
        format="json",
    )
    assert follow_up.status_code == 201
    data = follow_up.json()
    assert (data["sum_mm"], data["change_from_baseline_pct"], data["computed_response"]) == ("63.0", "-30.0", "PR")
    assert data["disagrees"] is True
    summary = client.get(f"/api/v1/participants/{run_in.subject_id}/efficacy/").json()
    assert summary["best_overall_response"] == "SD"  # a PR needs confirmation 4 weeks later


def test_a_correction_through_the_api_rescores_and_needs_a_reason(api, coordinator, run_in):
    client = api(coordinator)
    _baseline(client, run_in, run_in.enrollment_date - timedelta(days=5))
    created = client.post(
        f"/api/v1/participants/{run_in.subject_id}/tumour-assessments/",
        {
            "assessment_date": (run_in.enrollment_date + timedelta(days=42)).isoformat(),
            "targets": {"T1": 40, "T2": 30, "T3": 20},
            "non_targets": {"NT1": "present"},
            "investigator_response": "SD",
        },
        format="json",
    ).json()
    url = f"/api/v1/tumour-assessments/{created['id']}/"
    refused = client.patch(url, {"targets": {"T1": 10}, "version": created["version"]}, format="json")
    assert refused.status_code == 400
    assert "reason_for_change" in refused.json()
    assert (
        LesionResult.objects.get(assessment_id=created["id"], lesion__number=1, lesion__target=True).diameter_mm == 40
    )
    body = {"targets": {"T1": 10}, "version": created["version"], "reason_for_change": "Misread T1 on the report"}
    corrected = client.patch(url, body, format="json")
    assert corrected.status_code == 200
    assert (corrected.json()["sum_mm"], corrected.json()["computed_response"]) == ("60.0", "PR")


def test_another_sites_coordinator_gets_404_and_a_monitor_403(api, coordinator, coordinator_sh02, monitor, run_in):
    _baseline(api(coordinator), run_in, run_in.enrollment_date - timedelta(days=5))
    assessment = TumourAssessment.objects.get(participant=run_in)
    assert api(coordinator_sh02).get(f"/api/v1/tumour-assessments/{assessment.pk}/").status_code == 404
    assert api(coordinator_sh02).get(f"/api/v1/participants/{run_in.subject_id}/efficacy/").status_code == 404
    assert api(monitor).get(f"/api/v1/tumour-assessments/{assessment.pk}/").status_code == 200
    assert _baseline(api(monitor), run_in, run_in.enrollment_date).status_code == 403
    assert TumourAssessment.objects.filter(participant=run_in).count() == 1


def test_the_worklist_lists_an_overdue_assessment_with_its_window(api, coordinator, run_in):
    # Enrolled on day 0, today is day 70: week 6 (day 42, window 35–49) has closed unassessed and
    # week 12 (day 84) opens its window on day 77, within the coming 7 days.
    response = api(coordinator).get("/api/v1/worklist/")
    assert response.status_code == 200
    day = run_in.enrollment_date
    rows = [
        (i["subject_id"], i["number"], i["status"], i["window_start"], i["window_end"])
        for i in response.json()["assessments"]
    ]
    assert rows == [
        (
            run_in.subject_id,
            1,
            "overdue",
            (day + timedelta(days=35)).isoformat(),
            (day + timedelta(days=49)).isoformat(),
        ),
        (
            run_in.subject_id,
            2,
            "upcoming",
            (day + timedelta(days=77)).isoformat(),
            (day + timedelta(days=91)).isoformat(),
        ),
    ]
    assert response.json()["assessments"][0]["missed"] == 1


def test_the_schedule_follows_the_study_settings(api, coordinator, admin_user, run_in):
    from scr_escc.services import update_study_settings

    update_study_settings(user=admin_user, data={"assessment_interval_weeks": 8}, reason="Amendment 2: every 8 weeks")
    # Day 70 today: week 8 (day 56, window 49–63) closed unassessed; week 16 (day 112) is far off.
    rows = [
        (i["number"], i["status"], i["target"]) for i in api(coordinator).get("/api/v1/worklist/").json()["assessments"]
    ]
    assert rows == [(1, "overdue", (run_in.enrollment_date + timedelta(days=56)).isoformat())]


def test_malformed_assessment_bodies_are_400_never_500(api, coordinator, run_in):
    client = api(coordinator)
    baseline = _baseline(client, run_in, run_in.enrollment_date - timedelta(days=5)).json()
    url = f"/api/v1/participants/{run_in.subject_id}/tumour-assessments/"
    body = {
        "assessment_date": (run_in.enrollment_date + timedelta(days=42)).isoformat(),
        "targets": {"T1": 10, "T2": 10, "T3": 10},
        "non_targets": {"NT1": ["present"]},
        "investigator_response": "PR",
    }
    assert client.post(url, body, format="json").status_code == 400
    patch = client.patch(f"/api/v1/tumour-assessments/{baseline['id']}/", [1, 2], format="json")
    assert patch.status_code == 400
    assert TumourAssessment.objects.filter(participant=run_in).count() == 1
