"""Issue 22 acceptance, in the browser: a monitor verifies an AE and raises a query on its grade;
the coordinator answers and corrects the grade in the same step; the monitor closes the query.
The AE's history shows the correction with the query as its reason, and its SDV flag has reset.
"""

import shutil
from pathlib import Path

import pytest

from monitoring.models import Query, QueryStep, SdvMark
from safety.models import AdverseEvent
from tests.factories import PASSWORD, SiteFactory, UserFactory, make_ae, make_participant

SCREENS = Path("/tmp/screens")


def _save(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENS / path.name)


@pytest.fixture
def ae_at_sh01(transactional_db):
    site = SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    coordinator = UserFactory(username="coordinator", role="coordinator", sites=[site])
    UserFactory(username="monitor", role="monitor")  # a monitor of no site: reads all, answers nothing
    participant = make_participant(site=site, user=coordinator)
    return make_ae(participant=participant, user=coordinator, grade=2, term="Nausea")


def test_query_on_an_ae_grade_answered_with_a_correction_then_closed(
    ae_at_sh01, live_server, browser, page, sign_in, tmp_path
):
    ae = ae_at_sh01
    ae_url = f"{live_server.url}/adverse-events/{ae.pk}/"

    # The monitor checks the AE against the hospital record, then asks about its grade.
    sign_in("monitor", PASSWORD)
    page.goto(ae_url)
    page.click("[data-testid=record-monitoring] [data-testid=verify]")
    assert page.get_attribute("[data-testid=sdv-status]", "data-status") == "verified"
    page.click("[data-testid=record-monitoring] [data-testid=raise-query]")
    page.select_option("[data-testid=raise-form] [name=field]", "grade")
    page.fill("[data-testid=raise-form] [name=text]", "The clinic note says vomiting 6 times in 24 h: grade 3?")
    page.click("[data-testid=raise-submit]")
    assert page.url == ae_url
    query = Query.objects.get()
    assert (query.field, query.status, query.raised_by.username) == ("grade", "open", "monitor")
    assert page.inner_text("[data-testid=record-queries]").count(f"Q-{query.pk}") == 1
    page.context.clear_cookies()

    # The coordinator answers from the AE page and corrects the grade in the same step.
    sign_in("coordinator", PASSWORD)
    page.goto(ae_url)
    page.click("[data-testid=query-link]")
    _save(page, tmp_path, "monitoring-query-answer")
    page.fill("[data-testid=answer-form] [name=text]", "Checked the nursing record: 6 episodes, grade 3.")
    page.check("[data-testid=answer-form] [name=correct]")
    page.fill("[data-testid=answer-form] [name=grade]", "3")
    page.click("[data-testid=answer-submit]")
    page.wait_for_selector("[data-testid=correction]")
    assert "2 → 3" in page.inner_text("[data-testid=correction]").replace("\xa0", " ")
    ae.refresh_from_db()
    assert ae.grade == 3
    query.refresh_from_db()
    assert query.status == "answered"
    page.context.clear_cookies()

    # The monitor closes it.
    sign_in("monitor", PASSWORD)
    page.goto(f"{live_server.url}/monitoring/queries/{query.pk}/")
    page.fill("[data-testid=close-form] [name=text]", "Agreed with the source.")
    page.click("[data-testid=close-submit]")
    page.wait_for_selector("[data-testid=reopen-form]")  # closed: the raiser may re-open it
    query.refresh_from_db()
    assert query.status == "closed"
    assert list(QueryStep.objects.filter(query=query).values_list("action", "by__username")) == [
        ("raised", "monitor"),
        ("answered", "coordinator"),
        ("closed", "monitor"),
    ]

    # The AE's history: the correction, 2 → 3, with the query as the reason for change.
    page.goto(f"{ae_url}history/")
    newest = page.locator("[data-testid=history] tbody tr").first.inner_text()
    assert f"Query Q-{query.pk}: Checked the nursing record: 6 episodes, grade 3." in newest
    assert "coordinator" in newest
    latest = AdverseEvent.history.filter(id=ae.pk).order_by("-history_id").first()
    assert (latest.grade, latest.history_change_reason) == (
        3,
        f"Query Q-{query.pk}: Checked the nursing record: 6 episodes, grade 3.",
    )

    # The AE's source-data verification reset, with what changed.
    page.goto(ae_url)
    assert page.get_attribute("[data-testid=sdv-status]", "data-status") == "changed"
    assert "3" in page.inner_text("[data-testid=sdv-status]")
    mark = SdvMark.objects.get(record_type="ae", record_id=ae.pk)
    assert (mark.status, mark.changes) == ("changed", [{"field": "grade", "old": "2", "new": "3"}])
    _save(page, tmp_path, "monitoring-ae-after-query")
