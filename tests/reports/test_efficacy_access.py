"""Who sees efficacy results by arm: enforced in the selector, tested like site scoping —
through the page, the API, the curve CSV and the ADTTE export, for every role."""

import pytest

from scr_escc.models import ESignature, Study

pytestmark = pytest.mark.django_db


def _views(user, login, api) -> dict:
    page = login(user).get("/efficacy/")
    results = api(user).get("/api/v1/efficacy/results/")
    curves = login(user).get("/efficacy/curves.csv")
    export = api(user).get("/api/v1/exports/pfs.csv")
    return {
        "page_by_arm": 'data-testid="section-by_arm"' in page.content.decode(),
        "page_pooled": 'data-testid="section-pooled"' in page.content.decode(),
        "api_by_arm": results.json()["by_arm"] is not None,
        "csv_by_arm": "randomized_by_arm" in curves.content.decode(),
        "export": export.status_code,
    }


@pytest.mark.parametrize("role", ["pi", "monitor"])
def test_the_pi_and_monitors_see_pooled_results_only(request, role, login, api, randomized_trial):
    user = request.getfixturevalue(role)
    seen = _views(user, login, api)
    assert seen == {"page_by_arm": False, "page_pooled": True, "api_by_arm": False, "csv_by_arm": False, "export": 403}


def test_data_managers_see_results_by_arm(admin_user, login, api, randomized_trial):
    seen = _views(admin_user, login, api)
    assert seen == {"page_by_arm": True, "page_pooled": True, "api_by_arm": True, "csv_by_arm": True, "export": 200}


@pytest.mark.parametrize("role", ["coordinator", "investigator"])
def test_site_staff_have_no_efficacy_results(request, role, login, api, randomized_trial):
    user = request.getfixturevalue(role)
    assert login(user).get("/efficacy/").status_code == 403
    assert api(user).get("/api/v1/efficacy/results/").status_code == 403
    assert login(user).get("/efficacy/curves.csv").status_code == 403


def test_the_pis_signature_opens_results_by_arm_to_the_pi_only(pi, monitor, password, login, api, randomized_trial):
    body = {"open": True, "password": password, "reason": "DSMB report, interim analysis 1"}
    response = api(pi).post("/api/v1/study/comparative-results/", body, format="json")
    assert response.status_code == 200
    assert Study.objects.get().comparative_results_open_to_pi is True
    signature = ESignature.objects.get(action=ESignature.Action.OPEN_COMPARATIVE_RESULTS)
    assert (signature.signer, signature.reason) == (pi, "DSMB report, interim analysis 1")
    latest = Study.history.order_by("-history_id").first()
    assert "DSMB report, interim analysis 1" in latest.history_change_reason
    assert _views(pi, login, api)["api_by_arm"] is True
    assert _views(pi, login, api)["page_by_arm"] is True
    assert _views(monitor, login, api) == {
        "page_by_arm": False, "page_pooled": True, "api_by_arm": False, "csv_by_arm": False, "export": 403,
    }  # fmt: skip


def test_closing_again_hides_them(pi, password, login, api, randomized_trial):
    api(pi).post("/api/v1/study/comparative-results/", {"open": True, "password": password, "reason": "DSMB"})
    response = api(pi).post(
        "/api/v1/study/comparative-results/", {"open": False, "password": password, "reason": "Done"}
    )
    assert response.status_code == 200
    assert _views(pi, login, api)["api_by_arm"] is False


def test_a_wrong_password_or_no_reason_changes_nothing(pi, password, api, randomized_trial):
    wrong = api(pi).post("/api/v1/study/comparative-results/", {"open": True, "password": "nope", "reason": "DSMB"})
    assert wrong.status_code == 403
    no_reason = api(pi).post("/api/v1/study/comparative-results/", {"open": True, "password": password, "reason": ""})
    assert no_reason.status_code == 400
    assert list(no_reason.json()) == ["reason"]
    assert Study.objects.get().comparative_results_open_to_pi is False
    assert not ESignature.objects.filter(action=ESignature.Action.OPEN_COMPARATIVE_RESULTS).exists()


@pytest.mark.parametrize("role", ["admin_user", "monitor"])
def test_only_the_pi_signs_the_opening(request, role, password, api, randomized_trial):
    user = request.getfixturevalue(role)
    body = {"open": True, "password": password, "reason": "DSMB"}
    assert api(user).post("/api/v1/study/comparative-results/", body).status_code == 403
    assert Study.objects.get().comparative_results_open_to_pi is False


def test_the_pi_opens_them_on_the_page_with_a_signature(pi, password, login, randomized_trial):
    client = login(pi)
    form = {"action": "open_comparative_results", "meaning": "on", "password": password, "reason": "DSMB report"}
    response = client.post("/efficacy/results-access/", form)
    assert response.status_code == 302
    assert 'data-testid="section-by_arm"' in client.get("/efficacy/").content.decode()
