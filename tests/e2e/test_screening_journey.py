"""Issue 3 in a real browser: a coordinator screens an eligible patient through the form, enrolls them and sees
the subject ID; then screens an ineligible patient and reads the failed criteria in words."""

import shutil
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from enrollment.eligibility import CRITERIA
from enrollment.models import Participant, Screening
from tests.factories import PASSWORD, SiteFactory, UserFactory

SCREENS = Path("/tmp/screens")


def fill_screening(page, *, initials: str, sex: str, ecog: str, pgsga: str, answers: dict[str, bool]) -> None:
    screened = timezone.localdate() - timedelta(days=3)
    page.fill("#id_initials", initials)
    page.check(f"input[name=sex][value={sex}]")
    page.fill("#id_consent_date", (screened - timedelta(days=2)).isoformat())
    page.fill("#id_screening_date", screened.isoformat())
    page.fill("#id_date_of_birth", (screened - timedelta(days=365 * 58)).isoformat())
    page.select_option("#id_ecog", ecog)
    page.fill("#id_pgsga_score", pgsga)
    page.select_option("#id_histology", "squamous")
    for criterion in CRITERIA:
        answer = answers.get(criterion.code, criterion.inclusion)
        page.check(f"input[name={criterion.field}][value={answer}]")


def save(page) -> None:
    page.click("input[type=submit][value='Save screening']")
    page.wait_for_load_state()


def test_coordinator_screens_enrolls_and_reads_the_screen_failure_reasons(
    transactional_db, live_server, page, sign_in, tmp_path
):
    site = SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    UserFactory(username="coordinator", role="coordinator", sites=[site])
    sign_in("coordinator", PASSWORD)

    # From the navigation to the form, as a person would.
    page.click("nav >> text=Screenings")
    page.click("text=New screening")
    assert page.input_value("#id_site") == str(site.pk)  # a one-site coordinator's site is chosen for them

    # A contradiction is shown next to the criterion it contradicts, and nothing is saved.
    fill_screening(page, initials="zwl", sex="male", ecog="3", pgsga="4", answers={})
    save(page)
    page.screenshot(path=str(tmp_path / "contradiction.png"), full_page=True)
    assert "ECOG is 3" in page.text_content("#id_inc3_error")
    assert Screening.objects.count() == 0

    # Corrected, it saves as eligible; enrolling gives the site's first subject ID.
    page.select_option("#id_ecog", "1")
    save(page)
    assert "Eligible" in page.inner_text("[data-testid=verdict]")
    assert "SH01-S0001 saved: ELIGIBLE" in page.inner_text("main")
    page.click("[data-testid=enroll]")
    page.wait_for_selector("[data-testid=subject-id]")
    assert page.inner_text("[data-testid=subject-id]") == "SH01-001"
    assert page.inner_text("[data-testid=cohort]") == "Safety run-in"
    assert "Enrolled as SH01-001" in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "enrolled.png"), full_page=True)
    assert Participant.objects.get().screening.initials == "ZWL"

    # An ineligible patient: the failed criteria in words, and no way to enroll.
    page.goto(f"{live_server.url}/screenings/new/")
    fill_screening(
        page,
        initials="LHM",
        sex="female",
        ecog="1",
        pgsga="5",
        answers={"INC4": False, "EXC4": True, "EXC11": True},
    )
    save(page)
    assert "Not eligible" in page.inner_text("[data-testid=verdict]")
    failed = [line.strip() for line in page.inner_text("[data-testid=failed-criteria]").splitlines() if line.strip()]
    assert failed == [
        "INC4 No prior anti-tumor treatment",
        "EXC4 Any prior anti-tumor therapy for esophageal cancer "
        "(surgery, radiotherapy, chemotherapy or immunotherapy)",
        "EXC11 Pregnant or breastfeeding",
    ]
    assert page.locator("[data-testid=enroll]").count() == 0
    page.screenshot(path=str(tmp_path / "ineligible.png"), full_page=True)
    assert Participant.objects.count() == 1

    # The screening log shows both outcomes.
    page.click("nav >> text=Screenings")
    log = page.inner_text("table")
    assert "SH01-S0001" in log and "SH01-001" in log
    assert "SH01-S0002" in log and "INC4, EXC4, EXC11" in log
    page.screenshot(path=str(tmp_path / "log.png"), full_page=True)

    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "ineligible.png", SCREENS / "screening.png")
    for name in ("contradiction", "enrolled", "log"):
        shutil.copy(tmp_path / f"{name}.png", SCREENS / f"screening_journey_{name}.png")


def test_a_criterion_error_is_visible_next_to_the_criterion(transactional_db, live_server, page, sign_in, tmp_path):
    site = SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    UserFactory(username="coordinator", role="coordinator", sites=[site])
    sign_in("coordinator", PASSWORD)
    page.goto(f"{live_server.url}/screenings/new/")
    fill_screening(page, initials="ZWL", sex="male", ecog="3", pgsga="4", answers={})
    save(page)
    page.locator("#div_id_inc3").screenshot(path=str(tmp_path / "inc3.png"))
    assert page.is_visible("#id_ecog")  # the form is shown again
    assert page.is_visible("#id_inc3_error"), "the INC3 contradiction is in the page but hidden"
