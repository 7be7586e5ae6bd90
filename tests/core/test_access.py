"""Who may open what (SPEC §2): anonymous → login/401, wrong role → 403, other site → 404."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize(
    "path", ["/", "/screenings/", "/participants/", "/study/settings/", "/sites/", "/study/history/"]
)
def test_anonymous_page_request_redirects_to_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("path", ["/api/v1/study/", "/api/v1/screenings/", "/api/v1/participants/"])
def test_anonymous_api_request_gets_401_json(client, db, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


def test_coordinator_gets_403_on_admin_page(login, coordinator):
    assert login(coordinator).get(reverse("study-settings")).status_code == 403


@pytest.mark.parametrize("role", ["pi", "monitor"])
def test_non_admin_roles_get_403_on_study_settings(db, login, role, request):
    user = request.getfixturevalue(role)
    assert login(user).get(reverse("study-settings")).status_code == 403


def test_admin_opens_study_settings(login, admin_user):
    assert login(admin_user).get(reverse("study-settings")).status_code == 200


def test_coordinator_gets_404_on_another_sites_record(login, coordinator, sh02):
    client = login(coordinator)
    assert client.get(reverse("site-detail", args=["SH02"])).status_code == 404
    assert client.get(reverse("site-detail", args=["SH01"])).status_code == 200


def test_site_list_shows_only_own_sites(login, coordinator, sh02):
    content = login(coordinator).get(reverse("site-list")).content.decode()
    assert "SH01" in content and "SH02" not in content


def test_study_wide_roles_see_every_site(login, pi, sh01, sh02):
    client = login(pi)
    assert client.get(reverse("site-detail", args=["SH02"])).status_code == 200
    assert client.get(reverse("site-detail", args=["SH01"])).status_code == 200


def test_scope_helper_returns_nothing_for_inactive_user(coordinator, sh01):
    from scr_escc.models import Site
    from scr_escc.scoping import scope_to_user

    coordinator.is_active = False
    assert not scope_to_user(Site.objects.all(), coordinator, site_field="pk").exists()


def test_navigation_shows_only_the_roles_pages(login, coordinator, admin_user):
    coordinator_home = login(coordinator).get("/").content.decode()
    assert reverse("study-settings") not in coordinator_home
    admin_home = login(admin_user).get("/").content.decode()
    assert reverse("study-settings") in admin_home


def test_unknown_api_path_answers_json_404(api, coordinator):
    response = api(coordinator).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
