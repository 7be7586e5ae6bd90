"""Site isolation (SPEC §2, §10): staff of another site get 404 on every screening and participant URL."""

import pytest

from enrollment.models import Participant, Screening
from tests.factories import eligible_screening_data, make_participant, make_screening

PAGES = [
    "/screenings/{screening}/",
    "/screenings/{screening}/edit/",
    "/screenings/{screening}/history/",
    "/screenings/{failed}/rescreen/",
    "/participants/{subject}/",
    "/participants/{subject}/withdraw/",
    "/participants/{subject}/history/",
    "/participants/{subject}/adverse-events/new/",
    "/participants/{subject}/randomize/",
]
POSTS = [
    "/screenings/{screening}/enroll/",
    "/screenings/{screening}/edit/",
    "/screenings/{failed}/rescreen/",
    "/participants/{subject}/withdraw/",
    "/participants/{subject}/randomize/",
]
API_GETS = [
    "/api/v1/screenings/{screening}/",
    "/api/v1/participants/{subject}/",
    "/api/v1/participants/{subject}/adverse-events/",
]
API_POSTS = [
    "/api/v1/screenings/{screening}/enroll/",
    "/api/v1/participants/{subject}/withdraw/",
    "/api/v1/participants/{subject}/randomize/",
    "/api/v1/participants/{subject}/adverse-events/",
]


@pytest.fixture
def sh01_records(sh01, coordinator, study):
    participant = make_participant(site=sh01, user=coordinator)
    screening = make_screening(site=sh01, user=coordinator)  # eligible, not enrolled
    failed = make_screening(site=sh01, user=coordinator, exc3=True)
    return {"screening": screening.pk, "failed": failed.pk, "subject": participant.subject_id}


@pytest.fixture(params=["coordinator_sh02", "investigator_sh02"])
def outsider(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("url", PAGES)
def test_pages_of_another_site_are_404(url, login, outsider, sh01_records):
    assert login(outsider).get(url.format(**sh01_records)).status_code == 404


@pytest.mark.parametrize("url", POSTS)
def test_posts_to_another_site_are_404_and_change_nothing(url, login, outsider, sh01_records):
    before = (Screening.objects.count(), Participant.objects.count(), list(Participant.objects.values("status")))
    response = login(outsider).post(url.format(**sh01_records), eligible_screening_data() | {"withdrawal_reason": "x"})
    assert response.status_code == 404
    assert (
        Screening.objects.count(),
        Participant.objects.count(),
        list(Participant.objects.values("status")),
    ) == before


@pytest.mark.parametrize("url", API_GETS)
def test_api_reads_of_another_site_are_404(url, api, outsider, sh01_records):
    response = api(outsider).get(url.format(**sh01_records))
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("url", API_POSTS)
def test_api_writes_to_another_site_are_404(url, api, outsider, sh01_records):
    before = Participant.objects.count()
    assert api(outsider).post(url.format(**sh01_records), {}, format="json").status_code == 404
    assert Participant.objects.count() == before


def test_lists_show_only_the_users_sites(login, api, outsider, sh01_records, sh02, coordinator_sh02):
    own = make_participant(site=sh02, user=coordinator_sh02)
    page = login(outsider).get("/participants/").content.decode()
    assert own.subject_id in page and sh01_records["subject"] not in page
    assert [p["subject_id"] for p in api(outsider).get("/api/v1/participants/").json()["results"]] == [own.subject_id]
    screenings = api(outsider).get("/api/v1/screenings/").json()["results"]
    assert [s["screening_number"] for s in screenings] == ["SH02-S0001"]
    screening_page = login(outsider).get("/screenings/").content.decode()
    assert "SH01-S" not in screening_page and "SH02-S0001" in screening_page


def test_own_site_staff_see_their_records(login, api, coordinator, investigator, sh01_records):
    for user in (coordinator, investigator):
        for url in PAGES[:3] + PAGES[4:5]:
            assert login(user).get(url.format(**sh01_records)).status_code == 200, url
        for url in API_GETS:
            assert api(user).get(url.format(**sh01_records)).status_code == 200, url


def test_a_screening_cannot_be_created_at_another_site(api, login, outsider, sh01):
    payload = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in eligible_screening_data().items()}
    response = api(outsider).post("/api/v1/screenings/", payload | {"site": "SH01"}, format="json")
    assert response.status_code in (400, 404) and not Screening.objects.filter(site=sh01).exists()
