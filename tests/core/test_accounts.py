"""Issue 18: accounts and API access a hospital IT review would pass — tokens that behave like
sessions, two-factor sign-in for PI and data managers, user administration in the audit
trail, and the hardening of sign-in and the API schema."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken

from reports.exports import start_export
from scr_escc import accounts
from scr_escc.csvexport import read_back
from scr_escc.models import Study, User
from scr_escc.services import create_site
from tests.factories import PASSWORD, current_code, give_authenticator

TOKEN = "/api/v1/auth/token/"


def _token(client, username, password=PASSWORD, **extra) -> str:
    response = client.post(TOKEN, {"username": username, "password": password, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _study(client, token):
    return client.get("/api/v1/study/", HTTP_AUTHORIZATION=f"Token {token}")


# --- Tokens ---------------------------------------------------------------------------------


def test_the_stored_token_is_not_the_token(client, coordinator):
    token = _token(client, coordinator.username)
    stored = AuthToken.objects.get(user=coordinator)
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) == 128
    assert stored.digest == hashlib.sha512(token.encode()).hexdigest()


def test_a_token_past_its_lifetime_gets_401(client, coordinator):
    token = _token(client, coordinator.username)
    AuthToken.objects.filter(user=coordinator).update(expiry=timezone.now() - timedelta(seconds=1))
    assert _study(client, token).status_code == 401


def test_a_token_idles_out_after_30_minutes_and_never_lives_past_12_hours(client, coordinator):
    token = _token(client, coordinator.username)
    stored = AuthToken.objects.get(user=coordinator)
    assert timedelta(minutes=29) < stored.expiry - timezone.now() <= timedelta(minutes=30)
    AuthToken.objects.filter(pk=stored.pk).update(created=timezone.now() - timedelta(hours=11, minutes=59))
    assert _study(client, token).status_code == 200
    AuthToken.objects.filter(pk=stored.pk).update(created=timezone.now() - timedelta(hours=12, seconds=1))
    assert _study(client, token).status_code == 401  # within its idle window, but past 12 hours from issue
    assert not AuthToken.objects.filter(pk=stored.pk).exists()


def test_a_password_change_revokes_every_token(client, coordinator, api):
    first, second = _token(client, coordinator.username), _token(client, coordinator.username)
    assert (_study(client, first).status_code, _study(client, second).status_code) == (200, 200)
    accounts.change_own_password(user=coordinator, old_password=PASSWORD, new_password="Another-Good-Pass-9")
    assert (_study(client, first).status_code, _study(client, second).status_code) == (401, 401)


def test_sign_out_revokes_that_token_only(client, coordinator):
    first, second = _token(client, coordinator.username), _token(client, coordinator.username)
    assert client.post("/api/v1/auth/logout/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 204
    assert (_study(client, first).status_code, _study(client, second).status_code) == (401, 200)


def test_a_username_too_long_is_a_field_error_not_a_500(client, db):
    response = client.post(TOKEN, {"username": "x" * 300, "password": "p"}, content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["username"]
    page = client.post("/accounts/login/", {"username": "x" * 300, "password": "p"})
    assert page.status_code == 200 and "username" in page.context["form"].errors


# --- Two-factor sign-in ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["pi", "admin_user"])
def test_two_factor_roles_reach_no_page_or_api_without_the_second_factor(role, request, client):
    user = request.getfixturevalue(role)
    client.force_login(user)
    for path in ("/", "/dashboard/", "/alerts/", "/participants/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith("/accounts/two-factor/"), path
    assert client.get("/api/v1/study/").status_code == 403
    refused = client.post(TOKEN, {"username": user.username, "password": PASSWORD}, content_type="application/json")
    assert refused.status_code == 400 and list(refused.json()) == ["otp"]
    assert not AuthToken.objects.filter(user=user).exists()


def test_with_the_authenticators_code_the_pi_gets_in(client, pi):
    device = give_authenticator(pi)
    client.force_login(pi)
    response = client.post("/accounts/two-factor/?next=/dashboard/", {"code": current_code(device)})
    assert response.status_code == 302 and response.url == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    # A code is good once (replay refused): the API client uses the PI's second authenticator.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    laptop = TOTPDevice.objects.create(user=pi, name="second phone", confirmed=True)
    token = client.post(
        TOKEN, {"username": "pi", "password": PASSWORD, "otp": current_code(laptop)}, content_type="application/json"
    )
    assert token.status_code == 200


def test_setting_up_the_authenticator_gives_recovery_codes_that_work_once(client, pi):
    client.force_login(pi)
    page = client.get("/accounts/two-factor/")
    assert b"<svg" in page.content
    from django_otp.plugins.otp_totp.models import TOTPDevice

    pending = TOTPDevice.objects.get(user=pi, confirmed=False)
    done = client.post("/accounts/two-factor/", {"code": current_code(pending)})
    codes = done.context["codes"]
    assert len(codes) == 10
    client.logout()
    client.force_login(pi)
    assert client.post("/accounts/two-factor/", {"code": codes[0]}).status_code == 302
    client.logout()
    client.force_login(pi)
    assert client.post("/accounts/two-factor/", {"code": codes[0]}).status_code == 200  # used up


def test_the_two_factor_page_of_a_verified_user_shows_the_state_not_another_code_prompt(client, pi):
    client.force_login(pi)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.get("/accounts/two-factor/")
    pending = TOTPDevice.objects.get(user=pi, confirmed=False)
    codes = client.post("/accounts/two-factor/", {"code": current_code(pending)}).context["codes"]
    client.logout()
    client.force_login(pi)
    assert client.post("/accounts/two-factor/", {"code": codes[0]}).status_code == 302
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200 and "form" not in page.context
    assert "9 recovery codes left." in page.content.decode()


def test_the_setup_page_says_two_factor_is_optional_for_site_staff(client, investigator, pi):
    client.force_login(investigator)
    assert "Optional for your role" in client.get("/accounts/two-factor/").content.decode()
    client.force_login(pi)
    assert "Your role signs in with a password and a code" in client.get("/accounts/two-factor/").content.decode()


def test_site_staff_need_no_second_factor(client, coordinator):
    client.force_login(coordinator)
    assert client.get("/participants/").status_code == 200


def test_the_study_setting_turns_the_second_factor_off(client, pi, study):
    Study.objects.filter(pk=1).update(two_factor_required=False)
    client.force_login(pi)
    assert client.get("/dashboard/").status_code == 200


# --- E-signature passwords share the lockout -------------------------------------------------


def test_six_wrong_signing_passwords_lock_the_account(enrolled_pi_api, pi, client):
    answers = [
        enrolled_pi_api.post(
            "/api/v1/study/amendments/",
            {"password": f"guess-{n}", "reference": "v9", "reason": "x", "stopping_threshold": 3},
            format="json",
        )
        for n in range(6)
    ]
    assert [a.status_code for a in answers] == [403] * 6
    assert "locked" in answers[-1].json()["detail"]
    client.post("/accounts/login/", {"username": pi.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


@pytest.fixture
def enrolled_pi_api(pi, api, sh01, coordinator, study):
    from tests.factories import make_participant

    make_participant(site=sh01, user=coordinator)
    return api(pi)


# --- Hardening ---------------------------------------------------------------------------------


def test_the_schema_and_docs_need_sign_in(client, coordinator):
    assert client.get("/api/v1/schema/").status_code == 401
    assert client.get("/api/v1/docs/").status_code == 401
    client.force_login(coordinator)
    docs = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in docs
    # Every script and stylesheet from our server: no address of another host (a CDN).
    assert re.findall(r"(?:src|href)=[\"'](?:https?:)?//", docs) == []


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/participants/", "/api/v1/study/"])
def test_every_page_has_a_content_security_policy_without_inline_scripts(path, client, coordinator):
    client.force_login(coordinator)
    policy = client.get(path)["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_the_term_picker_limit_is_validated(client, coordinator):
    client.force_login(coordinator)
    assert client.get("/adverse-events/terms/?limit=x").status_code == 400
    assert client.get("/adverse-events/terms/?limit=5&q=pneu").status_code == 200


# --- User administration, in the audit trail ----------------------------------------------------


def test_every_user_role_and_site_change_is_in_the_audit_export(admin_user, sh01, sh02):
    user, _password = accounts.invite_user(by=admin_user, username="wang", role="coordinator", sites=[sh01])
    accounts.change_role_and_sites(by=admin_user, user=user, role="investigator", sites=[sh02], reason="Moved")
    accounts.set_active(by=admin_user, user=user, active=False, reason="Left the hospital")
    create_site(code="SH03", name="Third hospital", user=admin_user)
    rows = read_back(b"".join(start_export(user=admin_user, dataset="audit", deidentified=False).content))
    users = [r for r in rows if r["RECTYPE"] == "user" and r["RECLABEL"] == "wang"]
    assert {r["USERNAME"] for r in users} == {admin_user.username}
    changes = " | ".join(r["CHANGES"] for r in users)
    assert "groups: coordinator → investigator; sites: SH01 → SH02" in changes
    assert "is_active: True → False" in changes and "Left the hospital" in {r["REASON"] for r in users}
    sites = [(r["RECLABEL"], r["USERNAME"], r["ACTION"]) for r in rows if r["RECTYPE"] == "site"]
    assert ("SH03", admin_user.username, "created") in sites
    assert not any("pbkdf2" in r["CHANGES"] or "md5" in r["CHANGES"] for r in rows)


def test_deactivation_ends_session_and_tokens_at_once(client, admin_user, coordinator, api):
    token = _token(api(admin_user), coordinator.username)
    client.force_login(coordinator)
    accounts.set_active(by=admin_user, user=coordinator, active=False, reason="Left")
    assert _study(client, token).status_code == 401
    assert client.get("/participants/").status_code == 302
    assert User.objects.get(pk=coordinator.pk).is_active is False


# --- The user administration API ------------------------------------------------------------------


def test_the_data_manager_administers_users_through_the_api(admin_user, sh01, sh02, api):
    client = api(admin_user)
    made = client.post("/api/v1/users/", {"username": "li", "role": "coordinator", "sites": ["SH01"]}, format="json")
    assert made.status_code == 201, made.content
    user_id, temporary = made.json()["user"]["id"], made.json()["temporary_password"]
    assert User.objects.get(pk=user_id).check_password(temporary)
    refused = client.patch(f"/api/v1/users/{user_id}/", {"role": "investigator", "sites": ["SH02"]}, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["reason"]
    changed = client.patch(
        f"/api/v1/users/{user_id}/", {"role": "investigator", "sites": ["SH02"], "reason": "Moved"}, format="json"
    )
    assert (changed.json()["role"], changed.json()["sites"]) == ("investigator", ["SH02"])
    reset = client.post(f"/api/v1/users/{user_id}/reset-password/", {"reason": "Forgot it"}, format="json")
    assert reset.status_code == 200 and reset.json()["temporary_password"] != temporary
    off = client.post(f"/api/v1/users/{user_id}/deactivate/", {"reason": "Left"}, format="json")
    assert (off.status_code, off.json()["is_active"]) == (200, False)


@pytest.mark.parametrize("role", ["coordinator", "investigator", "pi", "monitor"])
def test_only_data_managers_administer_users(role, request, api, sh01):
    user = request.getfixturevalue(role)
    client = api(user)
    assert client.get("/api/v1/users/").status_code == 403
    assert client.post("/api/v1/users/", {"username": "x", "role": "monitor"}, format="json").status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_a_lost_authenticator_is_reset_by_a_data_manager_and_audited(admin_user, pi):
    give_authenticator(pi)
    accounts.reset_two_factor(by=admin_user, user=pi, reason="Phone lost")
    assert accounts.confirmed_totp(pi) is None
    latest = pi.history.latest("history_date")
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "Two-factor sign-in reset: Phone lost")


def test_a_temporary_password_must_be_changed_before_anything_else(client, admin_user, sh01):
    user, temporary = accounts.invite_user(by=admin_user, username="chen", role="coordinator", sites=[sh01])
    client.post("/accounts/login/", {"username": "chen", "password": temporary})
    response = client.get("/participants/")
    assert response.status_code == 302 and response.url.startswith("/accounts/password/")
    assert (
        client.post(TOKEN, {"username": "chen", "password": temporary}, content_type="application/json").status_code
        == 403
    )


def test_a_coordinator_who_chose_two_factor_is_asked_for_it(client, coordinator):
    device = give_authenticator(coordinator)
    client.force_login(coordinator)
    response = client.get("/participants/")
    assert response.status_code == 302 and response.url.startswith("/accounts/two-factor/")
    assert client.post("/accounts/two-factor/", {"code": current_code(device)}).status_code == 302
    assert client.get("/participants/").status_code == 200


def test_a_credential_reset_is_told_to_the_owner_and_every_pi_and_data_manager(admin_user, pi):
    from scr_escc.models import Alert

    accounts.reset_password(by=admin_user, user=pi, reason="Forgot it")
    accounts.reset_two_factor(by=admin_user, user=pi, reason="Phone lost")
    notices = Alert.objects.filter(kind=Alert.Kind.ACCOUNT_SECURITY).order_by("pk")
    assert [a.subject for a in notices] == [
        "[SCR-ESCC-01] Password of pi reset by datamanager",
        "[SCR-ESCC-01] Second factor of pi reset by datamanager",
    ]
    assert all(a.recipients == ["dm@example.org", "pi@example.org"] for a in notices)
