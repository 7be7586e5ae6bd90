"""Issue 6 acceptance: the PI opens the safety dashboard and reads the stopping rule and the CONSORT flow."""

import shutil
from pathlib import Path

import pytest

from randomization.lists import generate_allocation_list
from randomization.services import randomize
from scr_escc.models import Study
from scr_escc.phases import open_randomization
from scr_escc.services import update_study_settings
from tests.factories import PASSWORD, SiteFactory, UserFactory, make_ae, make_participant, make_screening, strong_seed

SCREENS = Path("/tmp/screens")


@pytest.fixture
def known_trial(transactional_db):
    """A small trial whose every figure is known.

    11 screenings: 3 screen failures (EXC6; EXC6 + INC3; EXC11), 1 eligible not enrolled, 7 enrolled:
    4 run-in (3 SH01, 1 SH02; one died of a treatment-related Grade 5), then the PI opens
    randomization and 3 enroll in the randomized phase, 2 of them randomized (a block of 2: one A, one B).
    """
    sh01 = SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    sh02 = SiteFactory(code="SH02", name="Partner hospital")
    coordinator = UserFactory(username="coord1", role="coordinator", sites=[sh01])
    coordinator_sh02 = UserFactory(username="coord2", role="coordinator", sites=[sh02])
    pi = UserFactory(username="pi", role="pi", email="pi@example.org")
    admin = UserFactory(username="datamanager", role="admin", email="dm@example.org")

    make_screening(site=sh01, user=coordinator, pgsga_score=12, exc6=True)
    make_screening(site=sh01, user=coordinator, pgsga_score=10, exc6=True, ecog=2, inc3=False)
    make_screening(site=sh02, user=coordinator_sh02, exc11=True, sex="female")
    update_study_settings(user=admin, data={"run_in_min": 4}, reason="Small trial for the dashboard journey")
    make_screening(site=sh01, user=coordinator)
    run_in = [make_participant(site=sh01, user=coordinator) for _ in range(3)]
    run_in.append(make_participant(site=sh02, user=coordinator_sh02))
    make_ae(participant=run_in[0], user=coordinator, grade=5, related="possible", term="Pneumonitis")
    make_ae(
        participant=run_in[1],
        user=coordinator,
        grade=3,
        related="probable",
        term="Esophageal fistula",
        serious=True,
        seriousness_criteria=["hospitalization"],
    )
    make_ae(participant=run_in[2], user=coordinator, grade=1, term="Fatigue")

    generate_allocation_list(seed=strong_seed("dashboard-journey"), per_stratum=10, block_sizes=[2], user=admin)
    open_randomization(user=pi, password=PASSWORD)
    randomized = [make_participant(site=sh01, user=coordinator, ecog=0) for _ in range(3)]
    for participant in randomized[:2]:
        randomize(participant=participant, user=coordinator)
    assert Study.objects.get().phase == Study.Phase.RANDOMIZATION
    return run_in, randomized


def test_pi_reads_the_stopping_rule_and_the_consort_flow(known_trial, live_server, page, sign_in, tmp_path):
    run_in, _ = known_trial
    sign_in("pi", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/")

    assert page.inner_text("[data-testid=stopping-count]") == "1 of 2"
    rule = page.inner_text("[data-testid=stopping-rule]")
    assert "One more halts the study." in rule
    assert page.inner_text("[data-testid=dashboard-phase]") == "Randomization"
    events = page.inner_text("[data-testid=stopping-events]")
    assert run_in[0].subject_id in events and "Pneumonitis" in events
    assert page.inner_text("[data-testid=run-in-enrolled]") == "4"

    consort = page.locator("svg[data-testid=consort]")
    flow = consort.text_content()
    for text in (
        "11 patients screened",
        "Not eligible: 3",
        "EXC6: 2",
        "INC3: 1",
        "EXC11: 1",
        "Eligible: 8",
        "not yet enrolled: 1",
        "Enrolled, safety run-in: 4",
        "Enrolled, randomized phase: 3",
        "awaiting randomization: 1",
        "Arm A: 1",
        "Arm B: 1",
        "on study 3 · completed 0",
        "withdrawn 0 · deceased 1",
    ):
        assert text in flow, text
    assert consort.bounding_box()["width"] > 600  # drawn, not collapsed

    dashboard = tmp_path / "dashboard.png"
    page.screenshot(path=str(dashboard), full_page=True)
    assert dashboard.stat().st_size > 30_000
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(dashboard, SCREENS / "dashboard.png")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download SVG").click()
    download = download_info.value
    assert download.suggested_filename == "scr-escc-01-consort.svg"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    svg = saved.read_text(encoding="utf-8")
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "11 patients screened" in svg and "Arm A: 1" in svg and "awaiting randomization: 1" in svg
