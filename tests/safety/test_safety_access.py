"""SPEC §2 for adverse events: an outsider of the record's site gets 404 on every page and API of
it; lists show only the user's sites; monitor and PI read everything and change nothing. And the
CTCAE v5.0 term picker (SPEC §4)."""

import pytest

from safety.models import AdverseEvent, CtcaeTerm
from tests.factories import make_ae, make_participant
from tests.safety.ae_payloads import ae_form_post, api_ae_payload

RESPIRATORY = "Respiratory, thoracic and mediastinal disorders"


@pytest.fixture
def sh01_ae(sh01, coordinator, study):
    participant = make_participant(site=sh01, user=coordinator)
    return make_ae(participant=participant, user=coordinator, term="Pneumonitis", grade=2)


@pytest.fixture
def sh02_ae(sh02, coordinator_sh02, study):
    participant = make_participant(site=sh02, user=coordinator_sh02)
    return make_ae(participant=participant, user=coordinator_sh02, term="Diarrhea", grade=1)


def unchanged(ae):
    fresh = AdverseEvent.objects.get(pk=ae.pk)
    return (fresh.grade, fresh.version, fresh.voided) == (ae.grade, ae.version, ae.voided)


OUTSIDERS = ["coordinator_sh02", "investigator_sh02"]


# --- Outsiders of the site: 404, never the record ---------------------------------------


@pytest.mark.parametrize("role", OUTSIDERS)
@pytest.mark.parametrize(
    "path",
    [
        "/adverse-events/{pk}/",
        "/adverse-events/{pk}/edit/",
        "/adverse-events/{pk}/void/",
        "/adverse-events/{pk}/history/",
        "/participants/{sid}/",
        "/participants/{sid}/adverse-events/new/",
    ],
)
def test_outsider_gets_404_on_every_ae_page(role, path, sh01_ae, request, login):
    client = login(request.getfixturevalue(role))
    url = path.format(pk=sh01_ae.pk, sid=sh01_ae.participant.subject_id)
    response = client.get(url)
    assert response.status_code == 404
    assert sh01_ae.participant.subject_id not in response.content.decode()


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsider_post_to_edit_void_create_pages_is_404_and_changes_nothing(role, sh01_ae, request, login):
    client = login(request.getfixturevalue(role))
    before = AdverseEvent.objects.count()
    edit = client.post(
        f"/adverse-events/{sh01_ae.pk}/edit/", ae_form_post(sh01_ae, grade="3", reason_for_change="Not mine")
    )
    void = client.post(f"/adverse-events/{sh01_ae.pk}/void/", {"reason": "Not mine", "version": 1})
    create = client.post(f"/participants/{sh01_ae.participant.subject_id}/adverse-events/new/", ae_form_post(sh01_ae))
    assert (edit.status_code, void.status_code, create.status_code) == (404, 404, 404)
    assert unchanged(sh01_ae)
    assert AdverseEvent.objects.count() == before


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsider_gets_404_on_every_ae_api(role, sh01_ae, request, api):
    client = api(request.getfixturevalue(role))
    sid = sh01_ae.participant.subject_id
    before = AdverseEvent.objects.count()
    responses = {
        "detail": client.get(f"/api/v1/adverse-events/{sh01_ae.pk}/"),
        "patch": client.patch(
            f"/api/v1/adverse-events/{sh01_ae.pk}/",
            {"grade": 3, "reason_for_change": "Not mine", "version": 1},
            format="json",
        ),
        "void": client.post(f"/api/v1/adverse-events/{sh01_ae.pk}/void/", {"reason": "Not mine"}, format="json"),
        "list": client.get(f"/api/v1/participants/{sid}/adverse-events/"),
        "create": client.post(f"/api/v1/participants/{sid}/adverse-events/", api_ae_payload(), format="json"),
    }
    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(responses, 404)
    for response in responses.values():
        assert sid not in response.content.decode()
        assert "Pneumonitis" not in response.content.decode()
    assert unchanged(sh01_ae)
    assert AdverseEvent.objects.count() == before


def test_missing_ae_is_404_like_an_outsiders(sh01_ae, coordinator_sh02, api):
    """The answer for another site's AE is the same as for one that does not exist."""
    client = api(coordinator_sh02)
    outside = client.get(f"/api/v1/adverse-events/{sh01_ae.pk}/")
    missing = client.get(f"/api/v1/adverse-events/{sh01_ae.pk + 1000}/")
    assert (outside.status_code, outside.json()) == (missing.status_code, missing.json())


# --- Site staff see and change their own site's AEs -------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "investigator"])
def test_own_site_staff_read_and_correct_their_ae(role, sh01_ae, request, api):
    client = api(request.getfixturevalue(role))
    assert client.get(f"/api/v1/adverse-events/{sh01_ae.pk}/").json()["subject_id"] == "SH01-001"
    response = client.patch(
        f"/api/v1/adverse-events/{sh01_ae.pk}/", {"grade": 3, "reason_for_change": "Worse", "version": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    assert AdverseEvent.objects.get(pk=sh01_ae.pk).grade == 3


def listed_subjects(response) -> set[str]:
    return {ae.participant.subject_id for ae in response.context["table"].data}


@pytest.mark.parametrize("role", OUTSIDERS)
def test_ae_list_page_shows_only_the_users_sites(role, sh01_ae, sh02_ae, request, login):
    client = login(request.getfixturevalue(role))
    response = client.get("/adverse-events/")
    assert response.status_code == 200
    assert listed_subjects(response) == {"SH02-001"}
    assert "SH01-001" not in response.content.decode()
    # Asking for the other site by its filter does not widen the scope.
    filtered = client.get("/adverse-events/", {"site": sh01_ae.participant.site_id})
    assert "SH01-001" not in filtered.content.decode()
    assert listed_subjects(filtered) <= {"SH02-001"}


@pytest.mark.parametrize("role", OUTSIDERS)
def test_ae_list_api_shows_only_the_users_site(role, sh01_ae, sh02_ae, request, api):
    client = api(request.getfixturevalue(role))
    response = client.get("/api/v1/participants/SH02-001/adverse-events/")
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["results"]] == [sh02_ae.pk]
    assert client.get("/api/v1/participants/SH01-001/adverse-events/").status_code == 404


# --- Monitor and PI read everything, change nothing -------------------------------------

READ_ALL = ["monitor", "pi"]


@pytest.mark.parametrize("role", READ_ALL)
def test_reader_sees_every_sites_aes(role, sh01_ae, sh02_ae, request, login, api):
    user = request.getfixturevalue(role)
    client = login(user)
    assert listed_subjects(client.get("/adverse-events/")) == {"SH01-001", "SH02-001"}
    for ae in (sh01_ae, sh02_ae):
        assert client.get(f"/adverse-events/{ae.pk}/").status_code == 200
        assert client.get(f"/adverse-events/{ae.pk}/history/").status_code == 200
        api_client = api(user)
        assert api_client.get(f"/api/v1/adverse-events/{ae.pk}/").json()["id"] == ae.pk
        listed = api_client.get(f"/api/v1/participants/{ae.participant.subject_id}/adverse-events/").json()
        assert [item["id"] for item in listed["results"]] == [ae.pk]


@pytest.mark.parametrize("role", READ_ALL)
def test_reader_does_not_see_edit_buttons(role, sh01_ae, request, login):
    response = login(request.getfixturevalue(role)).get(f"/adverse-events/{sh01_ae.pk}/")
    assert response.context["can_edit"] is False
    assert f"/adverse-events/{sh01_ae.pk}/edit/" not in response.content.decode()


@pytest.mark.parametrize("role", [*READ_ALL, "admin_user"])
def test_reader_gets_403_on_create_edit_void_pages(role, sh01_ae, request, login):
    client = login(request.getfixturevalue(role))
    sid = sh01_ae.participant.subject_id
    before = AdverseEvent.objects.count()
    statuses = [
        client.get(f"/participants/{sid}/adverse-events/new/").status_code,
        client.post(f"/participants/{sid}/adverse-events/new/", ae_form_post(sh01_ae)).status_code,
        client.get(f"/adverse-events/{sh01_ae.pk}/edit/").status_code,
        client.post(
            f"/adverse-events/{sh01_ae.pk}/edit/", ae_form_post(sh01_ae, grade="3", reason_for_change="Reader edit")
        ).status_code,
        client.get(f"/adverse-events/{sh01_ae.pk}/void/").status_code,
        client.post(f"/adverse-events/{sh01_ae.pk}/void/", {"reason": "Reader void", "version": 1}).status_code,
    ]
    assert statuses == [403] * 6
    assert unchanged(sh01_ae)
    assert AdverseEvent.objects.count() == before


@pytest.mark.parametrize("role", [*READ_ALL, "admin_user"])
def test_reader_gets_403_on_create_edit_void_api(role, sh01_ae, request, api):
    client = api(request.getfixturevalue(role))
    sid = sh01_ae.participant.subject_id
    before = AdverseEvent.objects.count()
    statuses = [
        client.post(f"/api/v1/participants/{sid}/adverse-events/", api_ae_payload(), format="json").status_code,
        client.patch(
            f"/api/v1/adverse-events/{sh01_ae.pk}/", {"grade": 3, "reason_for_change": "Reader edit"}, format="json"
        ).status_code,
        client.post(f"/api/v1/adverse-events/{sh01_ae.pk}/void/", {"reason": "Reader void"}, format="json").status_code,
    ]
    assert statuses == [403] * 3
    assert unchanged(sh01_ae)
    assert AdverseEvent.objects.count() == before


def test_anonymous_gets_no_ae(sh01_ae, client):
    page = client.get(f"/adverse-events/{sh01_ae.pk}/")
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    assert client.get(f"/api/v1/adverse-events/{sh01_ae.pk}/").status_code == 401
    terms = client.get("/adverse-events/terms/", {"q": "pneumo"})
    assert terms.status_code == 302


# --- The CTCAE v5.0 term list and picker ------------------------------------------------


def test_ctcae_v5_has_837_terms_in_26_system_organ_classes(db):
    assert CtcaeTerm.objects.count() == 837
    assert CtcaeTerm.objects.values("soc").distinct().count() == 26
    assert CtcaeTerm.objects.filter(term__endswith="- Other, specify").count() == 26


def test_term_picker_puts_terms_starting_with_the_text_first(coordinator, login):
    response = login(coordinator).get("/adverse-events/terms/", {"q": "pneumo"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["term"] for r in results[:2]] == ["Pneumonitis", "Pneumothorax"]
    assert all(r["soc"] == RESPIRATORY for r in results[:2])
    assert results[0]["grades"]["5"] == "Death"


def test_term_picker_is_case_insensitive_and_finds_inside_words(coordinator, login):
    results = login(coordinator).get("/adverse-events/terms/", {"q": "NEUTROPENIA"}).json()["results"]
    terms = [r["term"] for r in results]
    assert "Febrile neutropenia" in terms


def test_term_picker_shows_grades_not_defined_for_a_term(coordinator, login):
    alopecia = CtcaeTerm.objects.get(term="Alopecia")
    detail = login(coordinator).get(f"/adverse-events/terms/{alopecia.pk}/").json()
    assert detail["soc"] == "Skin and subcutaneous tissue disorders"
    assert detail["grades"]["3"] == "-" and detail["grades"]["4"] == "-"
    assert detail["grades"]["1"].startswith("Hair loss")


def test_term_api_search_puts_terms_starting_with_the_text_first(coordinator, api):
    response = api(coordinator).get("/api/v1/ctcae-terms/", {"search": "pneumo"})
    assert response.status_code == 200
    body = response.json()
    results = body["results"] if isinstance(body, dict) else body
    assert [r["term"] for r in results[:2]] == ["Pneumonitis", "Pneumothorax"]
    assert [r["soc"] for r in results[:2]] == [RESPIRATORY, RESPIRATORY]
    assert results[0]["meddra_code"] == "10035742"
