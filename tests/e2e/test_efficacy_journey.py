"""Efficacy acceptance journey, in the browser: treatment, RECIST 1.1 scored by the software, the schedule.

A coordinator opens a run-in participant enrolled ten weeks ago, records cycle 1 (three agents) through
the cycle form, a baseline scan with three target lesions (sum 90 mm) and two follow-up scans; the
participant page shows the computed responses (PR, −33.3 % from baseline), the investigator's differing
reading flagged for review, and the next tumour assessment with its ± 7-day window. The worklist (and the
home page) lists a second participant whose week-6 window has closed as Overdue.

Screenshots at 1366 px go to /tmp/efficacy-shots/ (outside the repository) for a human to look at.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from efficacy.models import SystemicDose, TumourAssessment
from scr_escc.selectors import get_study
from tests.factories import PASSWORD, SiteFactory, UserFactory, make_participant

SHOTS = Path("/tmp/efficacy-shots")


def _shot(page, name: str, selector: str | None = None) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if selector:
        page.locator(selector).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


@pytest.fixture
def two_run_in_participants(transactional_db):
    """At SH01: one run-in participant enrolled 10 weeks ago, one enrolled 50 days ago (week-6 window closed)."""
    today = timezone.localdate()
    site = SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    coordinator = UserFactory(username="coordinator", role="coordinator", sites=[site])

    def enrolled(days_ago: int):
        day = today - timedelta(days=days_ago)
        return make_participant(
            site=site,
            user=coordinator,
            enrollment_date=day,
            screening_date=day - timedelta(days=3),
            consent_date=day - timedelta(days=4),
        )

    return enrolled(70), enrolled(50)


def _fill_lesion(page, row: int, organ: str, location: str, mm: str, *, node: bool = False) -> None:
    page.fill(f"#id_t{row}_organ", organ)
    page.fill(f"#id_t{row}_location", location)
    if node:
        page.check(f"#id_t{row}_lymph_node")
    page.fill(f"#id_t{row}_diameter_mm", mm)


def _follow_up(page, url: str, *, day, mm: dict[str, str], investigator: str, shot: str | None = None):
    page.goto(url)
    page.click("[data-testid=record-assessment]")
    page.wait_for_selector("#id_lesion_T1")
    page.fill("#id_assessment_date", day.isoformat())
    for code, value in mm.items():
        page.fill(f"#id_lesion_{code}", value)
    page.select_option("#id_lesion_NT1", "present")
    page.select_option("#id_new_lesion", "no")
    page.select_option("#id_investigator_response", investigator)
    if shot:
        _shot(page, shot)
    page.get_by_role("button", name="Save assessment").click()
    page.wait_for_url("**/assessments/*/")


def test_coordinator_records_treatment_and_scans_and_sees_responses_and_schedule(
    two_run_in_participants, live_server, page, sign_in
):
    first, late = two_run_in_participants
    today = timezone.localdate()
    enrolled = first.enrollment_date
    study = get_study()
    interval = timedelta(weeks=study.assessment_interval_weeks)  # 6 weeks
    window = timedelta(days=study.assessment_window_days)  # ± 7 days
    assert (interval, window) == (timedelta(weeks=6), timedelta(days=7))
    cycle_1 = enrolled + timedelta(days=1)
    baseline_day = enrolled - timedelta(days=2)
    scan_1 = enrolled + interval  # the week-6 assessment, on its target date
    scan_2 = today  # four weeks later: confirms the PR (outside any window: fulfils no visit)
    page.set_viewport_size({"width": 1366, "height": 900})
    participant_url = f"{live_server.url}/participants/{first.subject_id}/"

    sign_in("coordinator", PASSWORD)
    page.goto(participant_url)
    panel = page.locator("[data-testid=efficacy-panel]")
    assert "No cycle recorded yet." in panel.inner_text()

    # Cycle 1: the three agents; paclitaxel reduced, which needs its reason (refused without, next to the field).
    page.click("[data-testid=record-cycle]")
    page.wait_for_selector("#id_pd1__administered_on")
    assert page.input_value("#id_cycle") == "1"
    for agent, dose in (("pd1", "200"), ("paclitaxel", "120"), ("platinum", "5")):
        page.fill(f"#id_{agent}__administered_on", cycle_1.isoformat())
        page.fill(f"#id_{agent}__dose", dose)
    assert page.input_value("#id_pd1__unit") == "mg"
    assert page.input_value("#id_paclitaxel__unit") == "mg/m2"
    assert page.input_value("#id_platinum__unit") == "AUC"
    page.select_option("#id_paclitaxel__change", "reduced")
    _shot(page, "1_cycle_form")
    page.get_by_role("button", name="Save cycle").click()
    reason_error = page.locator("[data-agent=paclitaxel] .invalid-feedback")
    assert "Give the reason the dose was reduced" in reason_error.inner_text()
    assert SystemicDose.objects.filter(participant=first).count() == 0  # all three, or none
    _shot(page, "1b_cycle_form_refused")
    page.fill("#id_paclitaxel__change_reason", "Grade 2 neuropathy after the first infusion")
    page.get_by_role("button", name="Save cycle").click()
    page.wait_for_url(f"**/participants/{first.subject_id}/#efficacy")
    assert "Cycle 1 recorded." in page.inner_text(".alert-success")
    doses = page.locator("[data-testid=doses] tbody tr")
    assert doses.count() == 3
    paclitaxel = " ".join(doses.filter(has_text="Paclitaxel").inner_text().split())
    assert "120 mg/m² Dose reduced: Grade 2 neuropathy" in paclitaxel
    assert SystemicDose.objects.filter(participant=first, cycle=1, administered_on=cycle_1).count() == 3
    next_cycle = (cycle_1 + timedelta(days=study.cycle_length_days)).isoformat()
    assert f"cycle 2 due {next_cycle}" in panel.inner_text()

    # Baseline: three target lesions (liver 40, lung 30, a node's short axis 20 → 90 mm) and one non-target.
    page.click("[data-testid=record-baseline]")
    page.wait_for_selector("#id_t1_organ")
    page.fill("#id_assessment_date", baseline_day.isoformat())
    _fill_lesion(page, 1, "Liver", "Segment VII", "40")
    _fill_lesion(page, 2, "Lung", "Right lower lobe", "30")
    _fill_lesion(page, 3, "Lymph node", "Subcarinal (station 7)", "20", node=True)
    page.fill("#id_n1_organ", "Bone")
    page.fill("#id_n1_location", "T8 vertebra")
    _shot(page, "2_baseline_form")
    page.get_by_role("button", name="Save baseline").click()
    page.wait_for_url("**/assessments/*/")
    assert "Baseline recorded" in page.inner_text(".alert-success")
    assert page.inner_text("[data-testid=sum]") == "90.0 mm"
    assert "T3 Lymph node Subcarinal (station 7) 20.0 short axis" in " ".join(
        page.inner_text("[data-testid=lesion-results]").split()
    )
    # Its correction page shows the target measurements with their baseline values (nothing changed here).
    page.get_by_role("link", name="Correct").click()
    page.wait_for_selector("#id_lesion_T1")
    assert [page.input_value(f"#id_lesion_T{i}") for i in (1, 2, 3)] == ["40.0", "30.0", "20.0"]
    _shot(page, "2b_baseline_correction")

    # Follow-up 1 at week 6: 28 + 20 + 12 = 60 mm → −33.3 %, PR; the investigator agrees.
    _follow_up(
        page,
        participant_url,
        day=scan_1,
        mm={"T1": "28", "T2": "20", "T3": "12"},
        investigator="PR",
        shot="3_follow_up_form",
    )
    assert "Computed response: PR." in page.inner_text(".alert-success")
    assert page.inner_text("[data-testid=computed-response]") == "PR"
    assert page.inner_text("[data-testid=sum]") == "60.0 mm"
    assert page.inner_text("[data-testid=change-from-baseline]") == "-33.3%"
    assert page.locator("[data-testid=disagreement]").count() == 0

    # Follow-up 2, four weeks later: 26 + 18 + 11 = 55 mm, still PR (confirmed); the investigator reads SD.
    _follow_up(page, participant_url, day=scan_2, mm={"T1": "26", "T2": "18", "T3": "11"}, investigator="SD")
    assert page.inner_text("[data-testid=computed-response]") == "PR"
    assert page.inner_text("[data-testid=sum]") == "55.0 mm"
    disagreement = page.inner_text("[data-testid=disagreement]")
    assert page.inner_text("[data-testid=review-flag]") == "review"
    assert "investigator's response (SD) differs from the response computed by RECIST 1.1 (PR)" in disagreement
    _shot(page, "4_assessment_detail")

    # The participant page: computed responses, the review flag, best response, the next visit and its window.
    page.goto(participant_url)
    rows = page.locator("[data-testid=assessments] tbody tr")
    assert rows.count() == 3
    baseline_row, week_6_row, week_10_row = (rows.nth(i) for i in range(3))
    assert baseline_row.locator("[data-testid=computed-response]").count() == 0
    assert "90.0" in baseline_row.inner_text()
    assert page.locator("[data-testid=computed-response]").all_inner_texts() == ["PR", "PR"]
    assert "60.0" in week_6_row.inner_text()
    assert "-33.3%" in week_6_row.inner_text()
    assert week_6_row.locator("[data-testid=review-flag]").count() == 0
    assert week_10_row.locator("[data-testid=review-flag]").inner_text() == "review"
    assert "PR" in page.inner_text("[data-testid=best-response]")
    assert "confirmed" in page.inner_text("[data-testid=best-response]")

    # The week-6 visit is done; next is visit 2 at enrollment + 12 weeks, window ± 7 days.
    target = enrolled + 2 * interval
    next_due = page.inner_text("[data-testid=next-due]")
    assert target.isoformat() in next_due
    assert "Tumour assessment 2" in next_due
    assert f"{(target - window).isoformat()} – {(target + window).isoformat()}" in next_due
    assert "Upcoming" in next_due
    _shot(page, "5_participant_efficacy_panel", "[data-testid=efficacy-panel]")
    _shot(page, "5b_participant_page")

    assert [a.computed_response for a in TumourAssessment.objects.filter(participant=first).order_by("pk")] == [
        "",
        "PR",
        "PR",
    ]

    # The worklist: the second participant, enrolled 50 days ago, missed the week-6 window → Overdue.
    late_target = late.enrollment_date + interval
    page.goto(f"{live_server.url}/worklist/")
    late_row = page.locator("[data-testid=worklist-visits] tbody tr", has_text=late.subject_id)
    assert late_row.count() == 1
    assert late_row.locator("[data-testid=visit-status]").inner_text() == "Overdue"
    assert late_target.isoformat() in late_row.inner_text()
    assert f"{(late_target - window).isoformat()} – {(late_target + window).isoformat()}" in late_row.inner_text()
    first_row = page.locator("[data-testid=worklist-visits] tbody tr", has_text=first.subject_id)
    assert first_row.locator("[data-testid=visit-status]").inner_text() == "Upcoming"
    assert "2 overdue" in page.inner_text("[data-testid=worklist]")  # the late visit and cycle 2
    _shot(page, "6_worklist")

    # The home page of site staff opens on the same worklist.
    page.goto(f"{live_server.url}/")
    home_row = page.locator("[data-testid=worklist-visits] tbody tr", has_text=late.subject_id)
    assert home_row.locator("[data-testid=visit-status]").inner_text() == "Overdue"
    _shot(page, "7_home")
