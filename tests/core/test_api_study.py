"""SPEC §10: token auth and GET /api/v1/study/ exactly as the contract says."""

from knox.models import AuthToken as Token

from tests.factories import PASSWORD, make_participant


def test_token_then_study_contract(client, coordinator, sh01):
    make_participant(site=sh01, user=coordinator)
    token = client.post(
        "/api/v1/auth/token/", {"username": coordinator.username, "password": PASSWORD}, content_type="application/json"
    ).json()["token"]
    response = client.get("/api/v1/study/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert response.json() == {
        "protocol": "SCR-ESCC-01",
        "phase": "run_in",
        "run_in_enrolled": 1,
        "run_in_min": 20,
        "run_in_max": 25,
        "treatment_related_grade5": 0,
        "stopping_threshold": 2,
    }


def test_wrong_password_gets_400_json_without_token(client, coordinator):
    response = client.post(
        "/api/v1/auth/token/", {"username": coordinator.username, "password": "bad"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()
    assert not Token.objects.exists()


def test_bad_token_is_401(client, db):
    response = client.get("/api/v1/study/", HTTP_AUTHORIZATION="Token deadbeef")
    assert response.status_code == 401


def test_openapi_schema_and_docs_are_served(client, coordinator):
    client.force_login(coordinator)
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/study/" in schema.content
    assert client.get("/api/v1/docs/").status_code == 200


def test_unhandled_api_error_is_json_500(api, coordinator, monkeypatch):
    from scr_escc import api as core_api

    def explode():
        raise RuntimeError("boom")

    monkeypatch.setattr(core_api, "study_status", explode)
    client = api(coordinator)
    client.raise_request_exception = False
    response = client.get("/api/v1/study/")
    assert response.status_code == 500
    assert response.json()["detail"].startswith("Server error")
