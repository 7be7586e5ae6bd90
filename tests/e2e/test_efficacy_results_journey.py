"""Efficacy results in the browser: Kaplan–Meier charts with their number-at-risk table for a seeded randomized
cohort (16 participants), pooled for the PI, by arm once the PI opens them by e-signature on the same page;
a data manager sees them by arm, a monitor does not.

Full-page screenshots at 1366 px go to /tmp/efficacy-results-shots/ (outside the repository) for a human to look at.
"""

from pathlib import Path

import pytest

from enrollment.models import Participant
from reports.efficacy_results import efficacy_results
from scr_escc.models import ESignature, Study
from tests.factories import PASSWORD
from tests.reports.conftest import randomized_trial  # noqa: F401 - the fixture, shared with tests/reports

pytestmark = pytest.mark.usefixtures("randomized_trial")  # by name: a parameter would shadow the import (F811)

SHOTS = Path("/tmp/efficacy-results-shots")
SIGN_AND_OPEN = "Sign and open the results by arm to me"


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def _at_risk_rows(page, testid: str) -> list[list[int]]:
    """The number-at-risk table under a chart: one list per row (group), in the order drawn."""
    cells = page.locator(f"[data-testid={testid}] svg text.at-risk")
    rows: dict[float, list[tuple[float, int]]] = {}
    for cell in cells.all():
        x, y = float(cell.get_attribute("x")), float(cell.get_attribute("y"))
        rows.setdefault(y, []).append((x, int(cell.text_content())))
    return [[n for _x, n in sorted(row)] for _y, row in sorted(rows.items())]


def _curve_count(page, testid: str) -> int:
    return page.locator(f"[data-testid={testid}] svg path:has(title)").count()


def _assert_readable_layout(page) -> None:
    """At 1366 px nothing is wider than the window, each chart fits its card, unshrunk or nearly."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    charts = page.locator(".km-chart svg[viewBox]")
    assert charts.count() > 0
    for chart in charts.all():
        box = chart.bounding_box()
        card = chart.locator("xpath=ancestor::div[contains(@class, 'card-body')]").bounding_box()
        assert card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
        drawn = float(chart.get_attribute("viewBox").split()[2])
        assert box["width"] >= 0.95 * drawn, (box["width"], drawn)  # the 12 px text stays about 12 px


def _sign_out(page) -> None:
    page.context.clear_cookies()


def test_km_charts_with_at_risk_tables_pooled_then_by_arm_after_the_pis_signature(
    transactional_db, pi, admin_user, monitor, live_server, page, sign_in
):
    assert Participant.objects.filter(randomized_at__isnull=False).count() == 16
    page.set_viewport_size({"width": 1366, "height": 900})
    efficacy = f"{live_server.url}/efficacy/"

    # The PI: arms pooled only, with the number at risk under the chart (16 at day 0).
    sign_in("pi", PASSWORD)
    page.goto(efficacy)
    pooled_pfs = page.locator("[data-testid=km-pooled-pfs] svg")
    assert pooled_pfs.count() == 1
    assert "Number at risk" in pooled_pfs.text_content()  # SVG: no inner_text
    rows = _at_risk_rows(page, "km-pooled-pfs")
    assert len(rows) == 1 and rows[0][0] == 16
    assert rows[0] == sorted(rows[0], reverse=True)  # nobody re-enters the risk set
    assert _at_risk_rows(page, "km-pooled-os")[0][0] == 16
    assert _curve_count(page, "km-pooled-pfs") == 1
    assert page.inner_text("[data-testid=heading-pooled-pfs]") == "Progression-free survival"
    assert page.inner_text("[data-testid=heading-pooled-os]") == "Overall survival"
    numbers = page.locator("[data-testid=numbers-pooled-pfs] tbody tr")
    assert numbers.count() == 1 and "All randomized" in numbers.inner_text()
    assert page.locator("[data-testid=section-by_arm]").count() == 0
    assert page.locator("[data-testid=pooled-only]").is_visible()
    assert page.locator("[data-testid=results-access]").is_visible()
    _assert_readable_layout(page)
    _shot(page, "1_pi_pooled")

    # The PI opens the results by arm, signing on the page (linked from the notice): meaning, password, reason.
    page.get_by_role("link", name="Sign below to open them.").click()
    form = page.locator("[data-testid=results-access]")
    assert form.locator("h2").inner_text() == "Open the results by arm to the PI"
    form.locator("#id_meaning").check()
    form.locator("#id_password").fill(PASSWORD)
    form.locator("#id_reason").fill("DSMB report, interim analysis 1")
    _shot(page, "2_pi_signature_form_filled")
    form.get_by_role("button", name=SIGN_AND_OPEN).click()
    page.wait_for_url("**/efficacy/")
    assert "The results by arm are now open to the PI." in page.inner_text(".alert-success")
    assert Study.objects.get().comparative_results_open_to_pi is True
    signature = ESignature.objects.get(action=ESignature.Action.OPEN_COMPARATIVE_RESULTS)
    assert (signature.signer, signature.reason) == (pi, "DSMB report, interim analysis 1")

    by_arm = page.locator("[data-testid=section-by_arm]")
    assert by_arm.is_visible()
    assert page.locator("[data-testid=comparative-notice]").is_visible()
    for endpoint in ("pfs", "os"):
        testid = f"km-by_arm-{endpoint}"
        assert _curve_count(page, testid) == 2  # arm A and arm B
        arm_rows = _at_risk_rows(page, testid)
        assert len(arm_rows) == 2 and arm_rows[0][0] + arm_rows[1][0] == 16
        assert arm_rows[0][0] > 0 and arm_rows[1][0] > 0
        table = page.locator(f"[data-testid=numbers-by_arm-{endpoint}]")
        assert table.locator("[data-testid=median-A]").count() == 1
        assert table.locator("[data-testid=median-B]").count() == 1
    comparison = " ".join(page.inner_text("[data-testid=comparison-pfs]").split())
    assert "Hazard ratio A vs B" in comparison and "log-rank" in comparison
    pfs_table = page.locator("[data-testid=numbers-by_arm-pfs]")
    medians = [pfs_table.locator(f"[data-testid=median-{arm}]").inner_text() for arm in ("A", "B")]
    # The medians the page shows are the analysis's, rounded to whole days (the numbers are tested against
    # lifelines in tests/reports); a median not reached reads "not reached".
    curves = {c.group: c for c in efficacy_results(pi).by_arm["pfs"].curves}
    expected = [("not reached" if curves[arm].median is None else f"{curves[arm].median:.0f}") for arm in ("A", "B")]
    assert medians == expected
    # The form now offers to close them again.
    assert page.get_by_role("button", name="Sign and close the results by arm").is_visible()
    _assert_readable_layout(page)
    _shot(page, "3_pi_by_arm")

    # A data manager sees the results by arm (the rule, not the PI's opening).
    _sign_out(page)
    sign_in("datamanager", PASSWORD)
    page.goto(efficacy)
    assert page.locator("[data-testid=section-by_arm]").is_visible()
    assert _curve_count(page, "km-by_arm-pfs") == 2
    assert page.locator("[data-testid=comparison-pfs]").is_visible()
    assert page.locator("[data-testid=results-access]").count() == 0  # only the PI signs
    _shot(page, "4_data_manager")

    # A monitor does not, even now the PI has opened them to the PI.
    _sign_out(page)
    sign_in("monitor", PASSWORD)
    page.goto(efficacy)
    assert page.locator("[data-testid=section-by_arm]").count() == 0
    assert page.locator("[data-testid=comparison-pfs]").count() == 0
    assert _at_risk_rows(page, "km-pooled-pfs")[0][0] == 16
    assert page.locator("[data-testid=results-access]").count() == 0
    assert page.get_by_role("link", name="Sign below to open them.").count() == 0
    _shot(page, "5_monitor")
