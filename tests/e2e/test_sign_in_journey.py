from tests.factories import PASSWORD, SiteFactory, UserFactory


def test_coordinator_signs_in_and_sees_the_study_phase(transactional_db, live_server, page, sign_in, tmp_path):
    site = SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    UserFactory(username="coordinator", role="coordinator", sites=[site])

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    sign_in("coordinator", PASSWORD)

    assert page.inner_text("[data-testid=home-phase]") == "Safety run-in"
    assert "Safety run-in" in page.inner_text("[data-testid=phase-banner]")
    assert "SH01" in page.inner_text("[data-testid=whoami]")
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    assert (tmp_path / "home.png").stat().st_size > 10_000
