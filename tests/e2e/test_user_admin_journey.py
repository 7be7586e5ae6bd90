"""Issue 18 acceptance, in the browser: a data manager creates a coordinator for SH02; the
coordinator signs in, must change the temporary password, enrolls a patient at SH02 only; the
data manager deactivates them, and their session and API token stop working at once."""

import re

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from enrollment.models import Participant
from scr_escc.models import User
from tests.factories import PASSWORD, SiteFactory, UserFactory, eligible_screening_data

NEW_PASSWORD = "Zhou-Coordinator-2026"


@pytest.fixture
def two_sites_and_a_data_manager(transactional_db):
    SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    SiteFactory(code="SH02", name="Partner hospital")
    return UserFactory(username="dm", role="admin", email="dm@example.org")


def _fill_screening(page) -> None:
    data = eligible_screening_data()
    page.fill("#id_initials", "ZWL")
    page.check("input[name=sex][value=male]")
    for name in ("consent_date", "screening_date", "date_of_birth"):
        page.fill(f"#id_{name}", data[name].isoformat())
    page.select_option("#id_ecog", "1")
    page.fill("#id_pgsga_score", "4")
    page.select_option("#id_histology", "squamous")
    for field, answer in data.items():
        if re.fullmatch(r"(inc|exc)\d+", field):
            page.check(f"input[name={field}][value={'True' if answer else 'False'}]")


def test_a_coordinator_account_from_invitation_to_deactivation(
    two_sites_and_a_data_manager, live_server, browser, page, sign_in
):
    # The data manager creates the account for SH02 and reads the temporary password.
    sign_in("dm", PASSWORD)
    page.goto(f"{live_server.url}/accounts/users/new/")
    page.fill("#id_username", "zhou")
    page.fill("#id_first_name", "Li")
    page.fill("#id_last_name", "Zhou")
    page.select_option("#id_role", "coordinator")
    page.check("input[name=sites] >> nth=1")  # SH02
    page.click("input[type=submit]")
    notice = page.locator(".alert-warning").inner_text()
    temporary = re.search(r"Temporary password of zhou: (\S+)", notice).group(1)
    assert User.objects.get(username="zhou").site_codes == ["SH02"]

    # The coordinator signs in in a browser of their own and must change the password first.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    coordinator = context.new_page()
    coordinator.set_default_timeout(15000)
    coordinator.goto(f"{live_server.url}/accounts/login/")
    coordinator.fill("#id_username", "zhou")
    coordinator.fill("#id_password", temporary)
    coordinator.click("input[type=submit]")
    coordinator.wait_for_url(re.compile(r".*/accounts/password/.*"))
    coordinator.goto(f"{live_server.url}/screenings/new/")
    assert "/accounts/password/" in coordinator.url  # nothing else before the new password
    coordinator.fill("#id_old_password", temporary)
    coordinator.fill("#id_new_password", NEW_PASSWORD)
    coordinator.fill("#id_new_password_again", NEW_PASSWORD)
    coordinator.click("input[type=submit]")
    coordinator.wait_for_selector("text=Password changed")

    # They screen and enroll at SH02, the only site offered to them.
    coordinator.goto(f"{live_server.url}/screenings/new/")
    options = coordinator.locator("#id_site option").all_inner_texts()
    assert [o for o in options if o.strip() not in ("", "---------")] == ["SH02 Partner hospital"]
    _fill_screening(coordinator)
    coordinator.click("input[type=submit]")
    coordinator.click("[data-testid=enroll]")
    coordinator.wait_for_selector("[data-testid=subject-id]")
    assert coordinator.inner_text("[data-testid=subject-id]") == "SH02-001"
    assert list(Participant.objects.values_list("subject_id", flat=True)) == ["SH02-001"]

    # Their API token works… until the data manager deactivates them.
    api = APIClient()
    token = api.post("/api/v1/auth/token/", {"username": "zhou", "password": NEW_PASSWORD}, format="json")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api.get("/api/v1/participants/").status_code == 200

    page.goto(f"{live_server.url}/accounts/users/{User.objects.get(username='zhou').pk}/")
    page.fill("#id_account_reason", "Left the hospital")
    page.click("[data-testid=deactivate]")
    page.wait_for_selector("text=Account deactivated")

    coordinator.goto(f"{live_server.url}/participants/")
    assert "/accounts/login/" in coordinator.url
    assert api.get("/api/v1/participants/").status_code == 401
    assert not AuthToken.objects.filter(user__username="zhou").exists()
    context.close()
