"""Site isolation (SPEC §2, §10): staff of another site get 404 on every screening and participant URL, and
lists never show another site's records. Each outsider test has its insider twin (SH01 staff get 200)."""

import re

import pytest
from django.utils import timezone

from enrollment import api_urls as enrollment_api_urls
from enrollment import urls as enrollment_urls
from enrollment.models import Participant, Screening
from randomization import api_urls as randomization_api_urls
from randomization import urls as randomization_urls
from randomization.models import Allocation
from safety import api_urls as safety_api_urls
from safety import urls as safety_urls
from safety.models import AdverseEvent
from tests.factories import eligible_screening_data, make_ae, make_participant, make_screening

PAGE_GETS = [
    "/screenings/{screening}/",
    "/screenings/{enrolled}/",
    "/screenings/{screening}/edit/",
    "/screenings/{screening}/history/",
    "/screenings/{failed}/rescreen/",
    "/participants/{subject}/",
    "/participants/{subject}/withdraw/",
    "/participants/{subject}/complete/",
    "/participants/{subject}/history/",
    "/screenings/{screening}/void/",
    "/participants/{subject}/randomize/",
    "/participants/{subject}/adverse-events/new/",
    "/adverse-events/{ae}/",
    "/adverse-events/{ae}/edit/",
    "/adverse-events/{ae}/void/",
    "/adverse-events/{ae}/history/",
]
# Each page POST with the status SH01 staff get for it with `write_body(sh01)`.
PAGE_POSTS_INSIDER_STATUS = [
    ("/screenings/{screening}/enroll/", 302),  # enrolled → the participant's page
    ("/screenings/{screening}/edit/", 302),  # saved → the screening's page
    ("/screenings/{failed}/rescreen/", 302),  # the new screening's page
    ("/participants/{subject}/withdraw/", 302),  # withdrawn → the participant's page
    ("/participants/{subject}/complete/", 302),  # completed → the participant's page
    ("/screenings/{screening}/void/", 302),  # voided → the screening's page
    ("/participants/{subject}/randomize/", 302),  # refused (run-in) with a message → the participant's page
    ("/participants/{subject}/adverse-events/new/", 200),  # the form again: the body holds no AE
    ("/adverse-events/{ae}/void/", 302),  # voided → the AE's page
]
PAGE_POSTS = [url for url, _ in PAGE_POSTS_INSIDER_STATUS]
API_GETS = [
    "/api/v1/screenings/{screening}/",
    "/api/v1/screenings/{enrolled}/",
    "/api/v1/participants/{subject}/",
    "/api/v1/participants/{subject}/adverse-events/",
    "/api/v1/adverse-events/{ae}/",
]
# Each API write with the status SH01 staff get for it with `write_body(sh01)`.
API_WRITES_INSIDER_STATUS = [
    ("post", "/api/v1/screenings/{screening}/enroll/", 201),
    ("post", "/api/v1/participants/{subject}/withdraw/", 200),
    ("post", "/api/v1/participants/{subject}/complete/", 200),
    ("post", "/api/v1/screenings/{screening}/void/", 200),
    ("post", "/api/v1/participants/{subject}/randomize/", 409),  # the study is in the run-in
    ("post", "/api/v1/participants/{subject}/adverse-events/", 400),  # the body holds no AE
    ("patch", "/api/v1/adverse-events/{ae}/", 200),
    ("post", "/api/v1/adverse-events/{ae}/void/", 200),
]
API_WRITES = [(method, url) for method, url, _ in API_WRITES_INSIDER_STATUS]
# Attribution sign-off is for investigators (and the PI): an investigator of another site gets 404.
SIGN_URLS = ["/adverse-events/{ae}/sign/", "/api/v1/adverse-events/{ae}/sign-attribution/"]
# Recording a death outside the AE log is for investigators too (coordinators record a Grade 5 AE).
DEATH_URLS = ["/participants/{subject}/death/", "/api/v1/participants/{subject}/death/"]


def _form(data: dict) -> dict:
    return {
        k: str(v) if isinstance(v, bool) else (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()
    }


def insider_body(url: str, site) -> dict:
    """write_body, with a date of death for the death URLs only (an AE edit would refuse one)."""
    body = write_body(site)
    return body | {"death_date": timezone.localdate().isoformat()} if url.endswith("/death/") else body


def write_body(site) -> dict:
    """A body that would be accepted if the site check were missing: the 404 must come first."""
    today = timezone.localdate().isoformat()
    return _form(eligible_screening_data()) | {
        "site": site.pk,
        "reason_for_change": "Correction",
        "version": 1,
        "reason": "Entered twice",
        "withdrawal_date": today,
        "withdrawal_reason": "Consent withdrawn",
        "completion_date": today,
        "death_cause": "Disease progression",
        "cause": "Disease progression",
        "grade": 3,
    }


@pytest.fixture
def sh01_records(sh01, coordinator, study):
    participant = make_participant(site=sh01, user=coordinator)  # SH01-S0001 → SH01-001
    screening = make_screening(site=sh01, user=coordinator)  # SH01-S0002: eligible, not enrolled
    failed = make_screening(site=sh01, user=coordinator, exc3=True)  # SH01-S0003: screen failure
    ae = make_ae(participant=participant, user=coordinator)
    return {
        "enrolled": participant.screening.pk,
        "screening": screening.pk,
        "failed": failed.pk,
        "subject": participant.subject_id,
        "ae": ae.pk,
    }


@pytest.fixture
def sh02_records(sh02, coordinator_sh02, study):
    participant = make_participant(site=sh02, user=coordinator_sh02)  # SH02-S0001 → SH02-001
    make_ae(participant=participant, user=coordinator_sh02, term="Esophagitis")
    return participant


@pytest.fixture(params=["coordinator_sh02", "investigator_sh02"])
def outsider(request, sh02_records):
    return request.getfixturevalue(request.param)


@pytest.fixture(params=["coordinator", "investigator"])
def insider(request):
    return request.getfixturevalue(request.param)


def state() -> tuple:
    return (
        list(Screening.objects.order_by("pk").values_list("pk", "version", "exc3")),
        list(Participant.objects.order_by("pk").values_list("subject_id", "status", "version")),
        list(AdverseEvent.objects.order_by("pk").values_list("pk", "version", "voided", "grade")),
        Allocation.objects.count(),
    )


def test_every_record_url_is_in_these_lists():
    """A new screening/participant URL must join the isolation tests: this fails until it does."""
    covered = PAGE_GETS + PAGE_POSTS + API_GETS + [url for _, url in API_WRITES] + SIGN_URLS + DEATH_URLS
    covered = [re.sub(r"\{\w+\}", "X", url) for url in covered]
    modules = [
        ("/", enrollment_urls),
        ("/", safety_urls),
        ("/", randomization_urls),
        ("/api/v1/", enrollment_api_urls),
        ("/api/v1/", safety_api_urls),
        ("/api/v1/", randomization_api_urls),
    ]
    for prefix, module in modules:
        for pattern in module.urlpatterns:
            route = str(pattern.pattern)
            if "<" not in route or "terms" in route:  # CTCAE terms are a shared dictionary, not a record
                continue
            regex = prefix + re.sub(r"<[^>]+>", "[^/]+", route)
            assert any(re.fullmatch(regex, url) for url in covered), f"{prefix}{route} has no isolation test"


# --- outsiders: 404, nothing changed (each test lists every URL that let them through) ---


def test_pages_of_another_sites_records_are_404(login, outsider, sh01_records):
    client = login(outsider)
    leaks = {url: client.get(url.format(**sh01_records)).status_code for url in PAGE_GETS}
    assert {url: code for url, code in leaks.items() if code != 404} == {}


def test_page_posts_to_another_sites_records_are_404_and_change_nothing(login, outsider, sh01_records, sh02):
    client = login(outsider)
    before = state()
    leaks = {url: client.post(url.format(**sh01_records), write_body(sh02)).status_code for url in PAGE_POSTS}
    assert {url: code for url, code in leaks.items() if code != 404} == {}
    assert state() == before


def test_api_reads_of_another_sites_records_are_404(api, outsider, sh01_records):
    client = api(outsider)
    answers = {url: client.get(url.format(**sh01_records)) for url in API_GETS}
    leaks = {url: r.status_code for url, r in answers.items() if r.status_code != 404}
    assert leaks == {}
    assert all(r.json() == {"detail": "Not found."} for r in answers.values())


def test_api_writes_to_another_sites_records_are_404_and_change_nothing(api, outsider, sh01_records, sh02):
    client = api(outsider)
    before = state()
    body = write_body(sh02) | {"site": "SH02"}
    answers = {
        url: getattr(client, method)(url.format(**sh01_records), body, format="json") for method, url in API_WRITES
    }
    leaks = {url: r.status_code for url, r in answers.items() if r.status_code != 404}
    assert leaks == {}
    assert all(r.json() == {"detail": "Not found."} for r in answers.values())
    assert state() == before


PAGE_LISTS = ["/screenings/", "/screenings/?site={sh01}", "/participants/", "/participants/?site={sh01}"]
AE_LISTS = ["/adverse-events/", "/adverse-events/?site={sh01}"]
API_LISTS = ["/api/v1/screenings/", "/api/v1/participants/"]


def test_page_lists_do_not_show_another_sites_records(login, outsider, sh01_records, sh01):
    client = login(outsider)
    for url in PAGE_LISTS + AE_LISTS:
        body = client.get(url.format(sh01=sh01.pk)).content.decode()
        assert "SH01-S000" not in body and "SH01-001" not in body, url
        if "site=" not in url:  # the list works: the outsider's own record is there
            assert "SH02-001" in body or "SH02-S0001" in body, url


def test_api_lists_do_not_show_another_sites_records(api, outsider, sh01_records):
    client = api(outsider)
    for url in API_LISTS:
        for query, own in (("", 1), ("?site=SH01", 0)):
            body = client.get(url + query).json()
            numbers = [row.get("screening_number") or row["subject_id"] for row in body["results"]]
            assert not any(number.startswith("SH01") for number in numbers), url + query
            assert body["count"] == len(numbers) == own, url + query


def test_an_outsider_cannot_screen_at_another_site(login, api, outsider, sh01_records, sh01):
    before = state()
    page = login(outsider).post("/screenings/new/", _form(eligible_screening_data()) | {"site": sh01.pk})
    assert page.status_code == 200 and "site" in page.context["form"].errors
    response = api(outsider).post("/api/v1/screenings/", _form(eligible_screening_data()) | {"site": "SH01"})
    assert response.status_code == 400 and list(response.json()) == ["site"]
    assert state() == before


def test_re_screening_another_sites_screening_reads_as_not_found(api, outsider, sh01_records):
    """The refusal for another site's screening is the refusal for a screening that does not exist."""
    client = api(outsider)
    payload = _form(eligible_screening_data())
    before = state()
    theirs = client.post("/api/v1/screenings/", payload | {"previous_screening": sh01_records["failed"]})
    missing = client.post("/api/v1/screenings/", payload | {"previous_screening": 999999})
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json()["previous_screening"] == [
        m.replace("999999", str(sh01_records["failed"])) for m in missing.json()["previous_screening"]
    ]
    assert Screening.objects.filter(previous_screening_id=sh01_records["failed"]).count() == 0
    assert state() == before


# --- insiders: the same URLs answer, so the 404s above are about the site, not the address ---


def test_site_staff_open_every_page_of_their_records(login, insider, sh01_records):
    client = login(insider)
    answers = {url: client.get(url.format(**sh01_records)).status_code for url in PAGE_GETS}
    assert {url: code for url, code in answers.items() if code != 200} == {}


def test_site_staff_read_every_api_record(api, insider, sh01_records):
    client = api(insider)
    answers = {url: client.get(url.format(**sh01_records)).status_code for url in API_GETS}
    assert {url: code for url, code in answers.items() if code != 200} == {}


@pytest.mark.parametrize("url, expected", PAGE_POSTS_INSIDER_STATUS)
def test_site_staff_reach_every_page_post(url, expected, login, coordinator, sh01_records, sh01):
    assert login(coordinator).post(url.format(**sh01_records), insider_body(url, sh01)).status_code == expected


@pytest.mark.parametrize("method, url, expected", API_WRITES_INSIDER_STATUS)
def test_site_staff_reach_every_api_write(method, url, expected, api, coordinator, sh01_records, sh01):
    body = insider_body(url, sh01) | {"site": "SH01"}
    response = getattr(api(coordinator), method)(url.format(**sh01_records), body, format="json")
    assert response.status_code == expected, response.content


def test_site_staff_see_their_records_in_the_lists(login, api, insider, sh01_records, sh02_records, sh01):
    client = login(insider)
    for url in PAGE_LISTS:
        body = client.get(url.format(sh01=sh01.pk)).content.decode()
        assert "SH01-S0001" in body or "SH01-001" in body, url
        assert "SH02-" not in body, url
    for url in API_LISTS:
        body = api(insider).get(url).json()
        numbers = [row.get("screening_number") or row["subject_id"] for row in body["results"]]
        assert numbers and all(number.startswith("SH01") for number in numbers), url


def test_another_sites_investigator_cannot_reach_a_sign_off_and_changes_nothing(
    login, api, investigator_sh02, sh01_records, password
):
    before = state()
    page, api_url = (url.format(**sh01_records) for url in SIGN_URLS)
    client = login(investigator_sh02)
    assert client.get(page).status_code == 404
    assert (
        client.post(page, {"action": "sign_ae_attribution", "meaning": "on", "password": password}).status_code == 404
    )
    assert api(investigator_sh02).post(api_url, {"password": password}, format="json").status_code == 404
    assert state() == before


def test_the_sites_investigator_opens_the_sign_off_page(login, investigator, sh01_records):
    assert login(investigator).get(SIGN_URLS[0].format(**sh01_records)).status_code == 200


def test_another_sites_investigator_cannot_record_a_death_and_changes_nothing(
    login, api, investigator_sh02, sh01_records
):
    before = state()
    page, api_url = (url.format(**sh01_records) for url in DEATH_URLS)
    body = {"death_date": timezone.localdate().isoformat(), "death_cause": "x", "cause": "x"}
    assert login(investigator_sh02).get(page).status_code == 404
    assert login(investigator_sh02).post(page, body).status_code == 404
    assert api(investigator_sh02).post(api_url, body, format="json").status_code == 404
    assert state() == before


def test_a_coordinator_records_deaths_as_grade5_aes_not_directly(login, api, coordinator, sh01_records):
    before = state()
    page, api_url = (url.format(**sh01_records) for url in DEATH_URLS)
    body = {"death_date": timezone.localdate().isoformat(), "death_cause": "x", "cause": "x"}
    assert login(coordinator).get(page).status_code == 403
    assert api(coordinator).post(api_url, body, format="json").status_code == 403
    assert state() == before
