import pytest
from django.urls import reverse
from knox.models import AuthToken as Token

from scr_escc.models import User
from tests.factories import PASSWORD


def _attempt(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3")


def test_login_with_right_password_reaches_home_with_study_phase(client, coordinator):
    response = _attempt(client, coordinator.username, PASSWORD)
    assert response.status_code == 302 and response.url == reverse("home")
    home = client.get(reverse("home"))
    assert b"Safety run-in" in home.content
    assert b'data-testid="phase-banner"' in home.content


def test_five_wrong_passwords_lock_the_account(client, coordinator):
    for _ in range(4):
        response = _attempt(client, coordinator.username, "wrong-password")
        assert response.status_code == 200  # the form again, with an error
    locked = _attempt(client, coordinator.username, "wrong-password")
    assert locked.status_code == 429
    # Even the right password is refused while locked.
    again = _attempt(client, coordinator.username, PASSWORD)
    assert again.status_code == 429
    assert b"Account locked" in again.content


def test_four_wrong_passwords_do_not_lock(client, coordinator):
    for _ in range(4):
        _attempt(client, coordinator.username, "wrong-password")
    assert _attempt(client, coordinator.username, PASSWORD).status_code == 302


def test_lockout_is_per_user_not_per_hospital_address(client, coordinator, investigator):
    for _ in range(5):
        _attempt(client, coordinator.username, "wrong-password")
    # A colleague behind the same hospital proxy can still sign in.
    assert _attempt(client, investigator.username, PASSWORD).status_code == 302


def test_api_token_lockout_after_five_failures(client, coordinator):
    for _ in range(5):
        client.post(
            "/api/v1/auth/token/", {"username": coordinator.username, "password": "nope"}, REMOTE_ADDR="10.9.9.9"
        )
    response = client.post(
        "/api/v1/auth/token/", {"username": coordinator.username, "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 403
    assert "locked" in response.json()["detail"]
    assert not Token.objects.filter(user=coordinator).exists()


def test_idle_session_expires_after_30_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


@pytest.mark.parametrize("password", ["short", "password123", "1234567890123"])
def test_weak_passwords_are_refused(db, password):
    from django.core.exceptions import ValidationError

    from scr_escc.accounts import create_user

    with pytest.raises(ValidationError):
        create_user(username="newuser", role="monitor", password=password)
    assert not User.objects.filter(username="newuser").exists()


def test_logout_is_a_post(client, coordinator):
    client.force_login(coordinator)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302
