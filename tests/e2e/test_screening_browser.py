"""Issue 3 in a real browser: a coordinator screens and enrolls an eligible patient, then screens an ineligible one."""

import shutil
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from enrollment.eligibility import CRITERIA
from enrollment.models import Participant
from tests.factories import PASSWORD, SiteFactory, UserFactory


def fill_screening(page, *, initials: str, ecog: str, pgsga: str, answers: dict[str, bool]) -> None:
    screened = timezone.localdate() - timedelta(days=1)
    page.fill("#id_initials", initials)
    page.check("input[name=sex][value=male]")
    page.fill("#id_consent_date", (screened - timedelta(days=1)).isoformat())
    page.fill("#id_screening_date", screened.isoformat())
    page.fill("#id_date_of_birth", (screened - timedelta(days=365 * 64)).isoformat())
    page.select_option("#id_ecog", ecog)
    page.fill("#id_pgsga_score", pgsga)
    page.select_option("#id_histology", "squamous")
    for criterion in CRITERIA:
        answer = answers.get(criterion.code, criterion.inclusion)
        page.check(f"input[name={criterion.field}][value={answer}]")
    page.click("input[type=submit][value='Save screening']")


def test_coordinator_screens_enrolls_and_sees_failed_criteria(transactional_db, live_server, page, sign_in, tmp_path):
    site = SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    UserFactory(username="coordinator", role="coordinator", sites=[site])
    sign_in("coordinator", PASSWORD)

    page.goto(f"{live_server.url}/screenings/new/")
    fill_screening(page, initials="zwl", ecog="1", pgsga="4", answers={})
    assert "ELIGIBLE" in page.inner_text("[data-testid=verdict]").upper()
    page.screenshot(path=str(tmp_path / "eligible.png"), full_page=True)
    page.click("[data-testid=enroll]")
    assert page.inner_text("[data-testid=subject-id]") == "SH01-001"
    assert page.inner_text("[data-testid=cohort]") == "Safety run-in"
    assert "Enrolled as SH01-001" in page.inner_text("main")
    assert Participant.objects.get().screening.initials == "ZWL"
    page.screenshot(path=str(tmp_path / "participant.png"), full_page=True)

    page.goto(f"{live_server.url}/screenings/new/")
    fill_screening(page, initials="LHM", ecog="2", pgsga="12", answers={"INC3": False, "EXC6": True})
    failed = page.inner_text("[data-testid=failed-criteria]")
    assert "INC3" in failed and "ECOG performance status 0–1" in failed
    assert "EXC6" in failed and "PG-SGA" in failed
    assert page.locator("[data-testid=enroll]").count() == 0
    page.screenshot(path=str(tmp_path / "ineligible.png"), full_page=True)
    assert Participant.objects.count() == 1

    shots = Path("/tmp/screens")
    if shots.is_dir():  # a copy for a person to look at, when the folder exists
        for name in ("eligible", "participant", "ineligible"):
            shutil.copy(tmp_path / f"{name}.png", shots / f"screening_{name}.png")
