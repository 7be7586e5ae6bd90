"""The monitoring API: queries, source-data verification, casebook sign-off and lock — the same
services as the pages, JSON field errors, site scope (404), roles (403), refusals (409)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import URLResolver
from django.utils import timezone

from deviations import services as deviation_services
from efficacy import assessments, followup, treatment
from efficacy.models import LesionResult
from enrollment.models import Participant
from monitoring import casebook
from monitoring.models import CasebookLock, CasebookSignature, Query, QueryStep, SdvMark
from monitoring.record_types import RECORD_TYPES
from monitoring.values import content_hash
from randomization.lists import generate_allocation_list
from randomization.models import Allocation
from scr_escc.models import Study
from scr_escc.signatures import printed_name
from tests.efficacy.conftest import ago, course_data, cycle_doses, enrolled, three_targets
from tests.factories import PASSWORD, make_ae, strong_seed
from tests.safety.ae_payloads import api_ae_payload

pytestmark = pytest.mark.django_db

QUERIES = "/api/v1/queries/"
SDV = "/api/v1/sdv/"
SETTINGS = "/api/v1/monitoring/settings/"
LOCKED_MESSAGE = (
    "The casebook of %(subject)s is locked by the data manager: nothing in it can be changed. "
    "Ask the data manager to unlock it, with the reason."
)


def _casebook_url(participant, action: str = "") -> str:
    return f"/api/v1/participants/{participant.subject_id}/casebook/" + (f"{action}/" if action else "")


def _verify(client, record_id, **extra):
    return client.post(f"{SDV}verify/", {"record_type": "ae", "record_id": record_id, **extra}, format="json")


def _sign(client, participant, password=PASSWORD):
    return client.post(_casebook_url(participant, "sign"), {"password": password}, format="json")


def _raise(client, record_id, *, record_type="ae", field="grade", text="Source says grade 3?"):
    body = {"record_type": record_type, "record_id": record_id, "field": field, "text": text}
    return client.post(QUERIES, body, format="json")


# --- Queries ---


def test_a_raised_query_shows_every_field_in_the_answer_list_and_detail(api, monitor, coordinator, participant, ae):
    response = _raise(api(monitor), ae.pk)
    assert response.status_code == 201
    body = response.json()
    query = Query.objects.get()
    assert body == {
        "id": query.pk,
        "site": "SH01",
        "participant": participant.subject_id,
        "record_type": "ae",
        "record_id": ae.pk,
        "field": "grade",
        "text": "Source says grade 3?",
        "status": "open",
        "automatic": False,
        "rule": "",
        "raised_by": "monitor",
        "raised_at": body["raised_at"],
        "answered_at": None,
        "closed_at": None,
        "version": 1,
        "steps": [
            {
                "action": "raised",
                "by": "monitor",
                "at": body["steps"][0]["at"],
                "text": "Source says grade 3?",
                "correction": {},
            }
        ],
    }
    assert body["raised_at"] is not None
    listing = api(coordinator).get(QUERIES)
    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    assert listing.json()["results"] == [body]
    detail = api(coordinator).get(f"{QUERIES}{query.pk}/")
    assert detail.status_code == 200
    assert detail.json() == body


def test_only_raisers_raise_and_the_body_is_checked(api, coordinator, monitor, ae):
    assert _raise(api(coordinator), ae.pk).status_code == 403
    unknown = _raise(api(monitor), ae.pk, record_type="lab")
    assert unknown.status_code == 400
    assert list(unknown.json()) == ["record_type"]
    wrong_field = _raise(api(monitor), ae.pk, field="created_by")
    assert wrong_field.status_code == 400
    assert list(wrong_field.json()) == ["field"]
    empty = _raise(api(monitor), ae.pk, text="  ")
    assert empty.status_code == 400
    assert list(empty.json()) == ["text"]
    assert _raise(api(monitor), 999999).status_code == 404
    assert not Query.objects.exists()


def test_the_list_filters(api, monitor, admin_user, ae, participant, participant_sh02, coordinator_sh02):
    grade = _raise(api(monitor), ae.pk).json()
    other = make_ae(participant=participant_sh02, user=coordinator_sh02)
    onset = _raise(api(admin_user), other.pk, field="onset_date", text="Onset?").json()
    Query.objects.filter(pk=onset["id"]).update(raised_by=None, rule="ae-onset-before-enrollment")
    Query.objects.filter(pk=grade["id"]).update(raised_at=timezone.now() - timedelta(days=10))
    client = api(monitor)

    def ids(**params):
        response = client.get(QUERIES, params)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [onset["id"], grade["id"]]
    assert ids(site="SH02") == [onset["id"]]
    assert ids(participant=participant.subject_id) == [grade["id"]]
    assert ids(raiser="system") == [onset["id"]]
    assert ids(raiser=monitor.pk) == [grade["id"]]
    assert ids(older_than=7) == [grade["id"]]
    assert ids(status="answered") == []
    assert ids(record_type="ae", status="open") == [onset["id"], grade["id"]]
    for params in ({"site": "XX99"}, {"status": "pending"}, {"raiser": "someone"}, {"participant": "SH09-999"}):
        response = client.get(QUERIES, params)
        assert response.status_code == 400, params
        assert list(response.json()) == list(params)


def test_another_sites_coordinator_sees_nothing_of_sh01(api, monitor, coordinator_sh02, ae, participant_sh02):
    sh01_query = _raise(api(monitor), ae.pk).json()
    own = make_ae(participant=participant_sh02, user=coordinator_sh02)
    sh02_query = _raise(api(monitor), own.pk).json()
    client = api(coordinator_sh02)
    listing = client.get(QUERIES)
    assert [row["id"] for row in listing.json()["results"]] == [sh02_query["id"]]
    assert client.get(QUERIES, {"site": "SH01"}).status_code == 400
    assert client.get(QUERIES, {"participant": sh01_query["participant"]}).status_code == 400
    assert client.get(f"{QUERIES}{sh01_query['id']}/").status_code == 404
    steps = QueryStep.objects.count()
    answer = client.post(f"{QUERIES}{sh01_query['id']}/answer/", {"text": "Grade 2 is right"}, format="json")
    assert answer.status_code == 404
    assert QueryStep.objects.count() == steps


def test_a_monitor_of_no_site_raises_but_never_answers(api, monitor_no_site, ae):
    client = api(monitor_no_site)
    raised = _raise(client, ae.pk)
    assert raised.status_code == 201
    steps = QueryStep.objects.count()
    answer = client.post(f"{QUERIES}{raised.json()['id']}/answer/", {"text": "Fine"}, format="json")
    assert answer.status_code == 403
    assert QueryStep.objects.count() == steps
    assert Query.objects.get().status == "open"


@pytest.mark.parametrize("value", ["3", 3])
def test_an_answer_corrects_the_grade_with_the_query_as_reason(api, coordinator, grade_query, ae, value):
    url = f"{QUERIES}{grade_query.pk}/answer/"
    response = api(coordinator).post(url, {"text": "Source: grade 3", "value": value}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["answered_at"] is not None) == ("answered", True)
    step = body["steps"][-1]
    assert (step["action"], step["by"], step["text"]) == ("answered", "coord1", "Source: grade 3")
    assert step["correction"] == {"field": "grade", "old": "2", "new": "3"}
    ae.refresh_from_db()
    assert ae.grade == 3
    assert ae.history.latest().history_change_reason == f"Query Q-{grade_query.pk}: Source: grade 3"


def test_an_answer_value_is_converted_as_the_records_api_takes_it(api, monitor, coordinator, ae):
    raised = _raise(api(monitor), ae.pk, field="serious", text="Hospitalised per the source?").json()
    url = f"{QUERIES}{raised['id']}/answer/"
    response = api(coordinator).post(url, {"text": "No, outpatient", "value": "no"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"value": ["The value is the same as before: answer without a correction."]}
    response = api(coordinator).post(url, {"text": "Yes, admitted", "value": "yes"}, format="json")
    assert response.status_code == 400  # a serious AE needs its criteria: the AE's own rule
    assert list(response.json()) == ["seriousness_criteria"]
    ae.refresh_from_db()
    assert (ae.serious, ae.version) == (False, 1)


def test_an_answer_without_a_value_leaves_the_record(api, coordinator, grade_query, ae):
    response = api(coordinator).post(f"{QUERIES}{grade_query.pk}/answer/", {"text": "Grade 2 is right"}, format="json")
    assert response.status_code == 200
    assert response.json()["steps"][-1]["correction"] == {}
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (2, 1)


@pytest.mark.parametrize("value", ["four", None, 7])
def test_a_bad_value_is_a_field_error_and_changes_nothing(api, coordinator, grade_query, ae, value):
    response = api(coordinator).post(
        f"{QUERIES}{grade_query.pk}/answer/", {"text": "Fixed", "value": value}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["value"]
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (2, 1)
    assert list(QueryStep.objects.filter(query=grade_query).values_list("action", flat=True)) == ["raised"]


def test_a_value_on_a_whole_record_query_is_a_field_error(api, monitor, coordinator, ae):
    raised = _raise(api(monitor), ae.pk, field="", text="Is this AE in the source?").json()
    response = api(coordinator).post(f"{QUERIES}{raised['id']}/answer/", {"text": "Yes", "value": 3}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["value"]


def test_answer_refusals(api, coordinator, investigator, grade_query):
    url = f"{QUERIES}{grade_query.pk}/answer/"
    empty = api(coordinator).post(url, {"text": " "}, format="json")
    assert empty.status_code == 400
    assert list(empty.json()) == ["text"]
    stale = api(coordinator).post(url, {"text": "Right", "version": 7}, format="json")
    assert stale.status_code == 409
    assert api(coordinator).post(url, {"text": "Right"}, format="json").status_code == 200
    again = api(investigator).post(url, {"text": "Right again"}, format="json")
    assert again.status_code == 409
    assert "only an open query can be answered" in again.json()["detail"]
    assert QueryStep.objects.filter(query=grade_query).count() == 2


def test_close_and_reopen_by_the_raiser_or_the_data_manager(
    api, coordinator, monitor, monitor_sh01, pi, admin_user, grade_query
):
    url = f"{QUERIES}{grade_query.pk}/"
    for user in (coordinator, monitor_sh01, pi):
        assert api(user).post(f"{url}close/", {}, format="json").status_code == 403
    closed = api(monitor).post(f"{url}close/", {"text": "Agreed", "version": 1}, format="json")
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["steps"][-1]["action"]) == ("closed", "closed")
    assert closed.json()["closed_at"] is not None
    assert api(monitor).post(f"{url}close/", {}, format="json").status_code == 409
    no_text = api(monitor).post(f"{url}reopen/", {"text": ""}, format="json")
    assert no_text.status_code == 400
    assert list(no_text.json()) == ["text"]
    reopened = api(admin_user).post(f"{url}reopen/", {"text": "Still grade 2 in the source"}, format="json")
    assert reopened.status_code == 200
    assert (reopened.json()["status"], reopened.json()["closed_at"]) == ("open", None)
    assert [s["action"] for s in reopened.json()["steps"]] == ["raised", "closed", "reopened"]


# --- Source-data verification ---


def test_verify_through_the_api(api, monitor, coordinator, ae, participant):
    assert _verify(api(coordinator), ae.pk).status_code == 403
    response = _verify(api(monitor), ae.pk, version=1)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "record_type": "ae",
        "record_id": ae.pk,
        "status": "verified",
        "level": "all",
        "verified_by": "monitor",
        "verified_at": body["verified_at"],
    }
    assert SdvMark.objects.get().verified_by == monitor


def test_verify_refusals(api, monitor, participant, ae):
    client = api(monitor)
    assert _verify(client, 999999).status_code == 404
    unknown = _verify(client, ae.pk, record_type="lab")
    assert unknown.status_code == 400
    assert list(unknown.json()) == ["record_type"]
    stale = _verify(client, ae.pk, version=5)
    assert stale.status_code == 409
    assert not SdvMark.objects.exists()


def test_a_type_the_plan_does_not_verify_is_refused_with_409(api, monitor, admin_user, ae):
    levels = {"sdv_levels": {"ae": "none"}, "query_digest_days": 7, "reason": "AEs verified on paper"}
    assert api(admin_user).put(SETTINGS, levels, format="json").status_code == 200
    response = _verify(api(monitor), ae.pk)
    assert response.status_code == 409
    assert "sets no source-data verification" in response.json()["detail"]
    assert not SdvMark.objects.exists()


def test_a_verified_grade_changed_through_the_ae_api_shows_as_changed(api, monitor, coordinator, ae, participant):
    assert _verify(api(monitor), ae.pk).status_code == 200
    patch = {"grade": 3, "version": ae.version, "reason_for_change": "Grade misread"}
    assert api(coordinator).patch(f"/api/v1/adverse-events/{ae.pk}/", patch, format="json").status_code == 200
    response = api(monitor).get(SDV, {"participant": participant.subject_id})
    assert response.status_code == 200
    [row] = response.json()
    assert (row["subject_id"], row["site"], row["changed"]) == (participant.subject_id, "SH01", 1)
    [pending] = [item for item in row["pending"] if item["record_type"] == "ae"]
    assert pending == {
        "record_type": "ae",
        "record_id": ae.pk,
        "status": "changed",
        "changes": [{"field": "grade", "old": "2", "new": "3"}],
    }


def test_the_worklist(api, monitor, admin_user, coordinator, ae, participant, participant_sh02):
    assert api(coordinator).get(SDV).status_code == 403
    rows = api(admin_user).get(SDV)
    assert rows.status_code == 200
    assert [row["subject_id"] for row in rows.json()] == [participant.subject_id, participant_sh02.subject_id]
    response = api(monitor).get(SDV, {"site": "SH01"})
    [row] = response.json()
    # screening, participant and the AE (key fields, key fields, 100%); doses etc. not planned
    assert (row["required"], row["verified"], row["changed"], row["percent"]) == (3, 0, 0, 0)
    pending = sorted((p["record_type"], p["status"], p["changes"]) for p in row["pending"])
    assert pending == [("ae", "unverified", []), ("participant", "unverified", []), ("screening", "unverified", [])]
    assert _verify(api(monitor), ae.pk).status_code == 200
    [row] = api(monitor).get(SDV, {"site": "SH01"}).json()
    assert (row["required"], row["verified"], row["percent"]) == (3, 1, 33)
    assert api(monitor).get(SDV, {"site": "XX99"}).status_code == 400


# --- Monitoring settings ---


def test_settings_read_by_monitoring_roles_and_changed_by_the_data_manager(api, monitor, pi, coordinator, admin_user):
    assert api(coordinator).get(SETTINGS).status_code == 403
    read = api(pi).get(SETTINGS)
    assert read.status_code == 200
    assert read.json()["query_digest_days"] == 7
    assert read.json()["sdv_levels"]["ae"] == "all"
    body = {"sdv_levels": {"dose": "key"}, "query_digest_days": 14, "reason": "Monitoring plan v2"}
    assert api(monitor).put(SETTINGS, body, format="json").status_code == 403
    changed = api(admin_user).put(SETTINGS, body, format="json")
    assert changed.status_code == 200
    assert changed.json()["sdv_levels"]["dose"] == "key"
    assert changed.json()["sdv_levels"]["ae"] == "all"
    assert changed.json()["query_digest_days"] == 14
    assert api(monitor).get(SETTINGS).json() == changed.json()


def test_bad_settings_are_field_errors_in_the_clients_names(api, admin_user):
    body = {"sdv_levels": {"dose": "most"}, "query_digest_days": 0, "reason": " "}
    response = api(admin_user).put(SETTINGS, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"sdv_levels", "query_digest_days", "reason"}
    assert list(response.json()["sdv_levels"]) == ["dose"]
    assert api(admin_user).get(SETTINGS).json()["query_digest_days"] == 7


# --- Casebook ---


def test_the_casebook_before_and_after_the_signature(
    api, coordinator, investigator, investigator_sh02, participant, ae
):
    before = api(coordinator).get(_casebook_url(participant))
    assert before.status_code == 200
    assert before.json() == {
        "subject_id": participant.subject_id,
        "state": "not signed",
        "signature": None,
        "changes": [],
        "locked": False,
        "lock": None,
        "open_queries": 0,
        "content_hash": content_hash(casebook.snapshot(participant)),
    }
    assert _sign(api(coordinator), participant).status_code == 403
    assert _sign(api(investigator_sh02), participant).status_code == 404
    wrong = _sign(api(investigator), participant, password="not-it")
    assert wrong.status_code == 403
    assert "password is not correct" in wrong.json()["detail"]
    assert not CasebookSignature.objects.exists()
    signed = _sign(api(investigator), participant)
    assert signed.status_code == 200
    body = signed.json()
    assert (body["state"], body["changes"], body["locked"]) == ("signed", [], False)
    signature = body["signature"]
    assert signature["signer"] == printed_name(investigator)
    assert signature["meaning"].startswith("I have reviewed this participant's casebook")
    assert (signature["superseded_at"], signature["superseded_by"], signature["superseded_reason"]) == (None, None, "")
    assert signature["content_hash"] == CasebookSignature.objects.get().content_hash == before.json()["content_hash"]


def test_a_signature_over_a_casebook_that_changed_since_it_was_read_is_refused(
    api, coordinator, investigator, password, participant, ae
):
    reviewed = api(investigator).get(_casebook_url(participant)).json()["content_hash"]
    patch = {"grade": 3, "version": ae.version, "reason_for_change": "Grade misread"}
    assert api(coordinator).patch(f"/api/v1/adverse-events/{ae.pk}/", patch, format="json").status_code == 200
    body = {"password": password, "content_hash": reviewed}
    refused = api(investigator).post(f"{_casebook_url(participant)}sign/", body, format="json")
    assert refused.status_code == 409
    assert "changed while you were reviewing" in refused.json()["detail"]
    assert not CasebookSignature.objects.exists()


def test_a_change_after_the_signature_supersedes_it_and_shows(api, coordinator, signed_casebook, participant, ae):
    patch = {"grade": 3, "version": ae.version, "reason_for_change": "Grade misread"}
    assert api(coordinator).patch(f"/api/v1/adverse-events/{ae.pk}/", patch, format="json").status_code == 200
    body = api(coordinator).get(_casebook_url(participant)).json()
    assert body["state"] == "superseded"
    assert body["signature"]["superseded_by"] == "coord1"
    assert body["signature"]["superseded_reason"] == "Grade misread"
    assert {"record": f"ae:{ae.pk}", "field": "grade", "old": "2", "new": "3"} in body["changes"]


def test_lock_and_unlock(api, admin_user, monitor, signed_casebook, participant):
    url = _casebook_url(participant)
    assert api(monitor).post(f"{url}lock/", {}, format="json").status_code == 403
    locked = api(admin_user).post(f"{url}lock/", {}, format="json")
    assert locked.status_code == 200
    assert locked.json()["locked"] is True
    assert (locked.json()["lock"]["locked"], locked.json()["lock"]["changed_by"]) == (True, "datamanager")
    again = api(admin_user).post(f"{url}lock/", {}, format="json")
    assert again.status_code == 409
    no_reason = api(admin_user).post(f"{url}unlock/", {}, format="json")
    assert no_reason.status_code == 400
    assert list(no_reason.json()) == ["reason"]
    assert CasebookLock.objects.get().locked
    unlocked = api(admin_user).post(f"{url}unlock/", {"reason": "Late lab result"}, format="json")
    assert unlocked.status_code == 200
    assert (unlocked.json()["locked"], unlocked.json()["lock"]["reason"]) == (False, "Late lab result")


def test_a_casebook_with_an_open_query_does_not_lock(api, admin_user, signed_casebook, grade_query, participant):
    response = api(admin_user).post(_casebook_url(participant, "lock"), {}, format="json")
    assert response.status_code == 409
    assert "Close every query" in response.json()["detail"]
    assert not CasebookLock.objects.exists()


def test_an_unsigned_casebook_does_not_lock_and_outsiders_get_404(api, admin_user, coordinator_sh02, participant):
    assert api(admin_user).post(_casebook_url(participant, "lock"), {}, format="json").status_code == 409
    assert api(coordinator_sh02).get(_casebook_url(participant)).status_code == 404


# --- A locked casebook refuses every write of the API ---


def _iso(days_ago: int) -> str:
    return ago(days_ago).isoformat()


def _dose(days_ago: int) -> dict:
    return {"administered_on": _iso(days_ago), "change": "as_planned", "dose": "200", "unit": "mg"}


def _fix(record, **changes) -> dict:
    return {**changes, "version": record.version, "reason_for_change": "Source re-read"}


def _void(record) -> dict:
    return {"reason": "Entered in error", "version": record.version}


# (method, route as in the urlconf, who writes, the record whose pk is in the route, status once unlocked)
LOCK_CASES = [
    ("post", "participants/<str:subject_id>/adverse-events/", "coordinator", None, 201),
    ("patch", "adverse-events/<int:pk>/", "coordinator", "ae", 200),
    ("post", "adverse-events/<int:pk>/void/", "coordinator", "ae", 200),
    ("post", "adverse-events/<int:pk>/sign-attribution/", "investigator", "ae", 200),
    ("post", "participants/<str:subject_id>/withdraw/", "coordinator", None, 200),
    ("post", "participants/<str:subject_id>/complete/", "coordinator", None, 200),
    ("post", "participants/<str:subject_id>/death/", "investigator", None, 200),
    ("post", "participants/<str:subject_id>/cycles/", "coordinator", None, 201),
    ("patch", "doses/<int:pk>/", "coordinator", "dose", 200),
    ("post", "doses/<int:pk>/void/", "coordinator", "dose", 200),
    ("post", "participants/<str:subject_id>/radiotherapy/", "coordinator", None, 201),
    ("patch", "radiotherapy/<int:pk>/", "coordinator", "course", 200),
    ("post", "radiotherapy/<int:pk>/void/", "coordinator", "course", 200),
    ("post", "participants/<str:subject_id>/tumour-assessments/", "coordinator", None, 201),
    ("patch", "tumour-assessments/<int:pk>/", "coordinator", "baseline", 200),
    ("post", "tumour-assessments/<int:pk>/void/", "coordinator", "baseline", 200),
    ("post", "participants/<str:subject_id>/clinical-progression/", "coordinator", None, 201),
    ("patch", "clinical-progression/<int:pk>/", "coordinator", "progression", 200),
    ("post", "clinical-progression/<int:pk>/void/", "coordinator", "progression", 200),
    ("post", "participants/<str:subject_id>/new-therapies/", "coordinator", None, 201),
    ("patch", "new-therapies/<int:pk>/", "coordinator", "therapy", 200),
    ("post", "new-therapies/<int:pk>/void/", "coordinator", "therapy", 200),
    ("post", "participants/<str:subject_id>/follow-up-contacts/", "coordinator", None, 201),
    ("patch", "follow-up-contacts/<int:pk>/", "coordinator", "contact", 200),
    ("post", "follow-up-contacts/<int:pk>/void/", "coordinator", "contact", 200),
    ("post", "deviations/", "coordinator", None, 201),
    ("patch", "deviations/<int:pk>/", "coordinator", "deviation", 200),
    ("post", "deviations/<int:pk>/void/", "coordinator", "deviation", 200),
]


def _body(route: str, c) -> dict:
    """A valid body of each write in LOCK_CASES for the records of `locked_records` (dates of today)."""
    return {
        "participants/<str:subject_id>/adverse-events/": api_ae_payload(term="Fatigue"),
        "adverse-events/<int:pk>/": _fix(c.ae, grade=3),
        "adverse-events/<int:pk>/void/": _void(c.ae),
        "adverse-events/<int:pk>/sign-attribution/": {"password": PASSWORD, "version": c.ae.version},
        "participants/<str:subject_id>/withdraw/": {"withdrawal_date": _iso(0), "withdrawal_reason": "Moved away"},
        "participants/<str:subject_id>/complete/": {"completion_date": _iso(0)},
        "participants/<str:subject_id>/death/": {"death_date": _iso(0), "cause": "Disease progression"},
        "participants/<str:subject_id>/cycles/": {
            "cycle": 2, "pd1": _dose(29), "paclitaxel": _dose(29), "platinum": _dose(29),
        },
        "doses/<int:pk>/": _fix(c.dose, dose="190"),
        "doses/<int:pk>/void/": _void(c.dose),
        "participants/<str:subject_id>/radiotherapy/": {
            "modality": "ldrt", "start_date": _iso(15), "end_date": _iso(14), "total_dose_gy": "4.00", "fractions": 2,
            "target_site": "Primary tumour",
        },
        "radiotherapy/<int:pk>/": _fix(c.course, fractions=3),
        "radiotherapy/<int:pk>/void/": _void(c.course),
        "participants/<str:subject_id>/tumour-assessments/": {
            "assessment_date": _iso(15), "targets": {"T1": 30, "T2": 20, "T3": 10}, "non_targets": {},
            "investigator_response": "SD",
        },
        "tumour-assessments/<int:pk>/": _fix(c.baseline, comments="Re-read"),
        "tumour-assessments/<int:pk>/void/": _void(c.baseline),
        "participants/<str:subject_id>/clinical-progression/": {"progression_date": _iso(5), "reason": "Bone pain"},
        "clinical-progression/<int:pk>/": _fix(c.progression, reason="Bone pain, fracture"),
        "clinical-progression/<int:pk>/void/": _void(c.progression),
        "participants/<str:subject_id>/new-therapies/": {"start_date": _iso(3), "kind": "other", "therapy": "Stent"},
        "new-therapies/<int:pk>/": _fix(c.therapy, therapy="Irinotecan"),
        "new-therapies/<int:pk>/void/": _void(c.therapy),
        "participants/<str:subject_id>/follow-up-contacts/": {"contact_date": _iso(2), "method": "visit", "notes": ""},
        "follow-up-contacts/<int:pk>/": _fix(c.contact, notes="Well"),
        "follow-up-contacts/<int:pk>/void/": _void(c.contact),
        "deviations/": {
            "subject_id": c.sid, "deviation_date": _iso(3), "category": "visit_schedule", "important": False,
            "description": "Visit late",
        },
        "deviations/<int:pk>/": _fix(c.deviation, description="Visit a week late"),
        "deviations/<int:pk>/void/": _void(c.deviation),
    }[route]  # fmt: skip


# Writes of the API that change nothing in a participant's casebook (or are tested on their own below).
NOT_CASEBOOK_WRITES = {
    ("post", route)
    for route in (
        "auth/token/", "auth/logout/", "auth/logout-all/", "auth/password/", "users/",
        "users/<int:pk>/deactivate/", "users/<int:pk>/reactivate/", "users/<int:pk>/reset-password/",
        "study/open-randomization/", "study/confirm-termination/", "study/resume/", "study/resume/sign/",
        "study/amendments/", "study/comparative-results/", "alerts/<int:pk>/acknowledge/",
        "screenings/",  # a new screening belongs to no casebook yet
        "screenings/<int:pk>/enroll/",  # the casebook begins here
        "screenings/<int:pk>/void/",  # an enrolled screening is never voided
        "queries/", "queries/<int:pk>/close/", "queries/<int:pk>/reopen/",  # a query may be raised on a locked casebook
        "queries/<int:pk>/answer/",  # with a correction: test_an_answer_correcting_a_locked_casebook_is_refused
        "participants/<str:subject_id>/randomize/",  # test_randomizing_a_locked_casebook_is_refused
        "sdv/verify/",
        "participants/<str:subject_id>/casebook/sign/", "participants/<str:subject_id>/casebook/lock/",
        "participants/<str:subject_id>/casebook/unlock/",
    )
} | {("patch", "users/<int:pk>/"), ("put", "monitoring/settings/")}  # fmt: skip


def _write_routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _write_routes(pattern.url_patterns, prefix + str(pattern.pattern))
            continue
        view = pattern.callback.view_class
        for method in ("post", "put", "patch", "delete"):
            if method in view.http_method_names and hasattr(view, method):
                yield method, prefix + str(pattern.pattern)


def test_the_lock_table_names_every_write_of_the_api():
    from config import api_urls

    cases = {(method, route) for method, route, *_rest in LOCK_CASES}
    assert set(_write_routes(api_urls.urlpatterns)) == cases | NOT_CASEBOOK_WRITES


@pytest.fixture
def locked_records(participant, ae, coordinator, investigator, admin_user):
    """One record of every kind in the participant's casebook, then the casebook signed and locked."""
    doses = treatment.record_cycle(participant=participant, cycle=1, doses=cycle_doses(ago(50)), user=coordinator)
    course = treatment.record_course(participant=participant, data=course_data(), user=coordinator)
    baseline = assessments.record_baseline(
        participant=participant,
        data={"assessment_date": ago(61), "method": "ct"},
        targets=three_targets(),
        non_targets=[],
        user=coordinator,
    )
    progression = followup.record_clinical_progression(
        participant=participant, data={"progression_date": ago(30), "reason": "Dysphagia worse"}, user=coordinator
    )
    therapy = followup.record_new_therapy(
        participant=participant,
        data={"start_date": ago(20), "kind": "systemic", "therapy": "Docetaxel"},
        user=coordinator,
    )
    contact = followup.record_contact(
        participant=participant, data={"contact_date": ago(10), "method": "phone", "notes": ""}, user=coordinator
    )
    deviation = deviation_services.record_deviation(
        data={"deviation_date": ago(40), "category": "treatment", "description": "Dose given a day late"},
        user=coordinator,
        participant=participant,
    )
    casebook.sign(participant=participant, user=investigator, password=PASSWORD)
    casebook.lock(participant=participant, user=admin_user)
    return SimpleNamespace(
        participant=participant, sid=participant.subject_id, ae=ae, dose=doses[0], course=course, baseline=baseline,
        progression=progression, therapy=therapy, contact=contact, deviation=deviation,
    )  # fmt: skip


def _casebook_rows(participant) -> dict:
    """Every row of the casebook with its version, and its values as text: what a refused write must not move."""
    rows = {"content": casebook.snapshot(participant)}
    for code, record_type in RECORD_TYPES.items():
        model = record_type.model
        lookup = {"pk": participant.pk} if model is Participant else {"participant": participant}
        rows[code] = sorted(model._default_manager.filter(**lookup).values_list("pk", "version"))
    rows["lesion results"] = LesionResult.objects.filter(assessment__participant=participant).count()
    rows["signatures"] = CasebookSignature.objects.filter(participant=participant).count()
    return rows


def _send(client, case, records):
    method, route, _user, record, _status = case
    url = route.replace("<str:subject_id>", records.sid)
    if record is not None:
        url = url.replace("<int:pk>", str(getattr(records, record).pk))
    return getattr(client, method)(f"/api/v1/{url}", _body(route, records), format="json")


@pytest.mark.parametrize("case", LOCK_CASES, ids=[f"{case[0]} {case[1]}" for case in LOCK_CASES])
def test_a_locked_casebook_refuses_every_write_until_unlocked(request, api, admin_user, locked_records, case):
    client = api(request.getfixturevalue(case[2]))
    before = _casebook_rows(locked_records.participant)
    refused = _send(client, case, locked_records)
    assert refused.status_code == 409, refused.json()
    assert refused.json()["detail"] == LOCKED_MESSAGE % {"subject": locked_records.sid}
    assert _casebook_rows(locked_records.participant) == before
    unlock = {"reason": "Late pathology report"}
    assert (
        api(admin_user).post(_casebook_url(locked_records.participant, "unlock"), unlock, format="json").status_code
        == 200
    )
    done = _send(client, case, locked_records)
    assert done.status_code == case[4], done.json()
    assert _casebook_rows(locked_records.participant) != before


def test_an_answer_correcting_a_locked_casebook_is_refused(api, monitor, coordinator, locked_records):
    ae = locked_records.ae
    raised = _raise(api(monitor), ae.pk)
    assert raised.status_code == 201  # a query may still be raised: it asks for an unlock
    url = f"{QUERIES}{raised.json()['id']}/answer/"
    refused = api(coordinator).post(url, {"text": "Grade 3 in the source", "value": 3}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"] == LOCKED_MESSAGE % {"subject": locked_records.sid}
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (2, 1)
    assert Query.objects.get().status == "open"
    assert QueryStep.objects.count() == 1


def test_randomizing_a_locked_casebook_is_refused(api, sh01, coordinator, investigator, admin_user, study):
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    generate_allocation_list(seed=strong_seed("monitoring-api"), per_stratum=40, user=admin_user)
    participant = enrolled(site=sh01, user=coordinator, days_ago=5)
    casebook.sign(participant=participant, user=investigator, password=PASSWORD)
    casebook.lock(participant=participant, user=admin_user)
    url = f"/api/v1/participants/{participant.subject_id}/randomize/"
    refused = api(coordinator).post(url, {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"] == LOCKED_MESSAGE % {"subject": participant.subject_id}
    assert not Allocation.objects.exists()
    participant.refresh_from_db()
    assert participant.arm is None
    unlock = {"reason": "Randomization was due"}
    assert api(admin_user).post(_casebook_url(participant, "unlock"), unlock, format="json").status_code == 200
    assert api(coordinator).post(url, {}, format="json").status_code == 201
