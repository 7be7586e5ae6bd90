"""Issue 16: a protocol deviation log — date, category, description — site-scoped, audited,
in the exports; the enrollment refusals that tell users to record one now have a place."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deviations.models import ProtocolDeviation
from deviations.services import record_deviation
from reports.exports import start_export
from scr_escc.csvexport import read_back
from tests.factories import make_participant


def _today():
    """Today in the study's time zone, read when the test runs (a suite can cross midnight in Shanghai)."""
    return timezone.localdate()


@pytest.fixture
def participant(sh01, coordinator, study):
    return make_participant(site=sh01, user=coordinator)


@pytest.fixture
def deviation(participant, coordinator):
    return record_deviation(
        data={"deviation_date": _today(), "category": "consent", "important": True, "description": "Old consent form"},
        user=coordinator,
        participant=participant,
    )


def _rows() -> list:
    return list(ProtocolDeviation.objects.order_by("pk").values_list("pk", "version", "voided", "description"))


def test_a_coordinator_records_a_deviation_from_the_participant_page(participant, coordinator, login):
    client = login(coordinator)
    page = client.get(f"/participants/{participant.subject_id}/").content.decode()
    assert f"/deviations/new/?participant={participant.subject_id}" in page
    url = f"/deviations/new/?participant={participant.subject_id}"
    body = {"deviation_date": _today().isoformat(), "category": "visit_schedule", "description": "CT done on day 50"}
    response = client.post(url, body)
    deviation = ProtocolDeviation.objects.get()
    assert response.status_code == 302 and response.url == f"/deviations/{deviation.pk}/"
    assert (deviation.site, deviation.participant, deviation.created_by) == (participant.site, participant, coordinator)
    assert "CT done on day 50" in client.get(f"/participants/{participant.subject_id}/").content.decode()
    assert "CT done on day 50" in client.get("/deviations/").content.decode()


def test_the_api_records_a_deviation_of_the_site_or_of_a_participant(participant, coordinator, api, sh01):
    client = api(coordinator)
    body = {"deviation_date": _today().isoformat(), "category": "procedure", "description": "Freezer alarm"}
    site_only = client.post("/api/v1/deviations/", body, format="json")
    assert (site_only.status_code, site_only.json()["site"], site_only.json()["subject_id"]) == (201, "SH01", None)
    subject = client.post("/api/v1/deviations/", body | {"subject_id": participant.subject_id}, format="json")
    assert (subject.status_code, subject.json()["subject_id"]) == (201, participant.subject_id)


def test_the_api_refuses_a_deviation_of_a_site_the_user_does_not_work_at(participant, coordinator, api, sh02):
    body = {"deviation_date": _today().isoformat(), "category": "procedure", "description": "x", "site": "SH02"}
    response = api(coordinator).post("/api/v1/deviations/", body, format="json")
    assert response.status_code == 400 and list(response.json()) == ["site"]
    assert ProtocolDeviation.objects.count() == 0


def test_a_deviation_in_the_future_is_refused(participant, coordinator, api):
    body = {
        "deviation_date": (_today() + timedelta(days=1)).isoformat(),
        "category": "other",
        "description": "x",
        "subject_id": participant.subject_id,
    }
    response = api(coordinator).post("/api/v1/deviations/", body, format="json")
    assert response.status_code == 400 and list(response.json()) == ["deviation_date"]
    assert ProtocolDeviation.objects.count() == 0


def test_a_correction_needs_a_reason_and_keeps_history(deviation, coordinator, api):
    client = api(coordinator)
    url = f"/api/v1/deviations/{deviation.pk}/"
    assert client.patch(url, {"description": "Consent v1 used"}, format="json").status_code == 400
    done = client.patch(
        url, {"description": "Consent v1 used", "reason_for_change": "Clarified", "version": 1}, format="json"
    )
    assert (done.status_code, done.json()["version"]) == (200, 2)
    assert deviation.history.latest("history_date").history_change_reason == "Clarified"


def test_a_voided_deviation_stays_and_cannot_be_changed(deviation, coordinator, api):
    client = api(coordinator)
    assert (
        client.post(f"/api/v1/deviations/{deviation.pk}/void/", {"reason": "Duplicate"}, format="json").status_code
        == 200
    )
    before = _rows()
    patch = client.patch(
        f"/api/v1/deviations/{deviation.pk}/",
        {"description": "y", "reason_for_change": "z", "version": 2},
        format="json",
    )
    assert patch.status_code == 409
    assert _rows() == before and before[0][2] is True


@pytest.mark.parametrize(
    "url",
    [
        "/deviations/{pk}/",
        "/deviations/{pk}/edit/",
        "/deviations/{pk}/void/",
        "/deviations/{pk}/history/",
        "/api/v1/deviations/{pk}/",
    ],
)
def test_another_sites_staff_get_404_for_a_deviation(url, deviation, coordinator_sh02, login, api):
    path = url.format(pk=deviation.pk)
    client = api(coordinator_sh02) if path.startswith("/api/") else login(coordinator_sh02)
    assert client.get(path).status_code == 404


def test_another_sites_staff_cannot_change_a_deviation(deviation, coordinator_sh02, login, api):
    before = _rows()
    assert login(coordinator_sh02).post(f"/deviations/{deviation.pk}/void/", {"reason": "x"}).status_code == 404
    assert (
        api(coordinator_sh02)
        .post(f"/api/v1/deviations/{deviation.pk}/void/", {"reason": "x"}, format="json")
        .status_code
        == 404
    )
    patch = api(coordinator_sh02).patch(
        f"/api/v1/deviations/{deviation.pk}/", {"description": "x", "reason_for_change": "x"}, format="json"
    )
    assert patch.status_code == 404
    assert _rows() == before
    assert api(coordinator_sh02).get("/api/v1/deviations/").json()["count"] == 0
    assert "Old consent form" not in login(coordinator_sh02).get("/deviations/").content.decode()


def test_a_reader_cannot_record_a_deviation(participant, monitor, login, api):
    assert login(monitor).get("/deviations/new/").status_code == 403
    body = {"deviation_date": _today().isoformat(), "category": "other", "description": "x"}
    assert api(monitor).post("/api/v1/deviations/", body | {"site": "SH01"}, format="json").status_code == 403
    assert ProtocolDeviation.objects.count() == 0


def test_deviations_are_exported_and_in_the_audit_trail(deviation, participant, admin_user):
    rows = read_back(b"".join(start_export(user=admin_user, dataset="deviations", deidentified=False).content))
    assert [(r["USUBJID"], r["DVCAT"], r["DVIMPFL"], r["DVTERM"]) for r in rows] == [
        (f"SCR-ESCC-01-{participant.subject_id}", "consent", "Y", "Old consent form")
    ]
    audit = read_back(b"".join(start_export(user=admin_user, dataset="audit", deidentified=False).content))
    assert [r["ACTION"] for r in audit if r["RECTYPE"] == "deviation"] == ["created"]
