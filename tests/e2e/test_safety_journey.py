"""Issue 4 acceptance: a second treatment-related Grade 5 in the run-in halts the study, in the browser.

A coordinator records the AE through the real form (term picker, grade, death, seriousness,
attribution); the very next page carries the halted banner; the PI, signing in afterwards,
sees the stopping_rule_triggered alert and the halted phase.
"""

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from safety.models import AdverseEvent
from scr_escc.models import Alert, Study, User
from tests.factories import (
    PASSWORD,
    SiteFactory,
    UserFactory,
    current_code,
    give_authenticator,
    make_ae,
    make_participant,
)

SCREENS = Path("/tmp/screens")


def _save(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENS / path.name)


@pytest.fixture
def run_in_with_one_related_death(transactional_db):
    """Two run-in participants at SH01; the first already died of a treatment-related Grade 5 AE."""
    site = SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    coordinator = UserFactory(username="coordinator", role="coordinator", sites=[site])
    UserFactory(username="pi", role="pi", email="pi@example.org")
    first = make_participant(site=site, user=coordinator)
    second = make_participant(site=site, user=coordinator)
    make_ae(participant=first, user=coordinator, grade=5, related="possible", term="Pneumonitis")
    study = Study.objects.get()
    assert (study.phase, study.treatment_related_grade5) == (Study.Phase.RUN_IN, 1)
    return second


def test_second_related_grade5_halts_the_study_and_the_pi_sees_the_alert(
    run_in_with_one_related_death, live_server, browser, page, sign_in, tmp_path
):
    second = run_in_with_one_related_death
    today = timezone.localdate()

    # The coordinator opens the second participant and records the AE through the form.
    sign_in("coordinator", PASSWORD)
    page.goto(f"{live_server.url}/participants/{second.subject_id}/")
    assert "1 of 2" in page.inner_text("[data-testid=phase-banner]")
    page.click("[data-testid=new-ae]")
    page.wait_for_selector("[data-term-picker]")

    # Term picker: type part of the term, wait for the suggestion, choose it.
    page.locator("#id_ctcae_term").press_sequentially("fistu", delay=40)
    option = page.locator('#ctcae-terms option[value="Esophageal fistula"]')
    option.wait_for(state="attached")
    # A native <datalist> popup cannot be clicked in headless Chromium; choosing an option
    # puts its value in the input and fires "input", which is what fill() does.
    page.fill("#id_ctcae_term", option.get_attribute("value"))
    page.wait_for_selector("#term-info strong")
    assert page.inner_text("#term-info strong") == "Gastrointestinal disorders"
    assert "Death" in page.inner_text("#grade-info")

    page.check('input[name=grade][value="5"]')
    page.fill("#id_onset_date", (today - timedelta(days=1)).isoformat())
    page.check('input[name=serious][value="True"]')
    page.check('input[name=seriousness_criteria][value="death"]')
    page.select_option("#id_attribution_pd1", "unlikely")
    page.select_option("#id_attribution_chemo", "probable")
    page.select_option("#id_attribution_ldrt", "unrelated")
    page.select_option("#id_attribution_cfrt", "unrelated")
    page.select_option("#id_action_taken", "withdrawn")
    page.select_option("#id_outcome", "fatal")
    page.fill("#id_death_date", today.isoformat())
    _save(page, tmp_path, "safety_1_ae_form")

    page.click("input[type=submit][name=submit]")
    page.wait_for_url(f"**/participants/{second.subject_id}/")

    banner = page.inner_text("[data-testid=phase-banner]")
    assert "STUDY HALTED" in banner
    assert "2 of 2" in banner
    assert "Esophageal fistula, grade 5, treatment-related" in page.inner_text(".alert-success")
    _save(page, tmp_path, "safety_2_halted_banner")

    ae = AdverseEvent.objects.get(participant=second)
    assert (ae.grade, ae.treatment_related, ae.serious, ae.death_date) == (5, True, True, today)
    assert Study.objects.get().phase == Study.Phase.HALTED

    # The PI, in a browser of their own, sees the alert and the halted state.
    pi_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        pi_page = pi_context.new_page()
        pi_page.set_default_timeout(15000)
        pi_page.goto(f"{live_server.url}/accounts/login/")
        pi_page.fill("#id_username", "pi")
        pi_page.fill("#id_password", PASSWORD)
        pi_page.click("input[type=submit]")
        pi_page.fill("#id_code", current_code(give_authenticator(User.objects.get(username="pi"))))
        pi_page.click("input[type=submit]")  # the PI's second factor
        pi_page.wait_for_selector("[data-testid=home-phase]")
        assert pi_page.inner_text("[data-testid=home-phase]") == "Halted"
        assert "STUDY HALTED" in pi_page.inner_text("[data-testid=phase-banner]")
        _save(pi_page, tmp_path, "safety_3_pi_home")

        pi_page.goto(f"{live_server.url}/alerts/")
        triggered = pi_page.locator("[data-testid=alerts] tbody tr", has_text="Stopping rule triggered")
        assert triggered.count() == 1
        assert "STOPPING RULE TRIGGERED — study halted (2 of 2)" in triggered.inner_text()
        assert "STUDY HALTED" in pi_page.inner_text("[data-testid=phase-banner]")
        _save(pi_page, tmp_path, "safety_4_pi_alerts")
    finally:
        pi_context.close()
    assert Alert.objects.filter(kind=Alert.Kind.STOPPING_RULE_TRIGGERED).count() == 1
