"""Issue 16 acceptance: an undelivered stopping-rule alert shows a banner to the PI, on every
page, until the PI acknowledges it on the Alerts page."""

import shutil
from pathlib import Path

import pytest

from scr_escc.models import Alert
from tests.factories import PASSWORD, SiteFactory, UserFactory

SCREENS = Path("/tmp/screens")


@pytest.fixture
def undelivered_stopping_rule_alert(transactional_db):
    SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    UserFactory(username="pi", role="pi", email="pi@example.org")
    return Alert.objects.create(
        kind=Alert.Kind.STOPPING_RULE_TRIGGERED,
        key="stopping_rule_triggered:1",
        subject="[SCR-ESCC-01] STOPPING RULE TRIGGERED — study halted (2 of 2)",
        body="…",
        recipients=["pi@example.org"],
        status=Alert.Status.FAILED,
        attempts=8,
        last_error="550 mailbox unavailable",
    )


def test_the_pi_sees_the_banner_everywhere_until_acknowledging_it(
    undelivered_stopping_rule_alert, live_server, page, sign_in, tmp_path
):
    sign_in("pi", PASSWORD)
    for path in ("/", "/participants/", "/dashboard/"):
        page.goto(f"{live_server.url}{path}")
        banner = page.locator("[data-testid=undelivered-banner]")
        assert banner.is_visible(), path
        assert "STOPPING RULE TRIGGERED" in banner.inner_text()
    page.screenshot(path=str(tmp_path / "undelivered-banner.png"), full_page=False)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "undelivered-banner.png", SCREENS / "undelivered-banner.png")

    page.click("[data-testid=undelivered-banner] a")
    page.click("[data-testid=acknowledgement] button")
    page.wait_for_selector("text=Alert acknowledged.")
    assert page.locator("[data-testid=undelivered-banner]").count() == 0
    assert "pi," in page.locator("[data-testid=acknowledgement]").first.inner_text()
    page.goto(f"{live_server.url}/participants/")
    assert page.locator("[data-testid=undelivered-banner]").count() == 0
    undelivered_stopping_rule_alert.refresh_from_db()
    assert undelivered_stopping_rule_alert.acknowledged_by.username == "pi"
