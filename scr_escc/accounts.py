"""Accounts (SPEC §2, issue 18): users, their roles and sites, passwords, API tokens, two-factor
sign-in. Every change is in the user's history (who, when, why); users are never deleted.

API tokens are django-rest-knox tokens: stored as a hash, expiring after 30 idle minutes and
at most 12 hours after issue, several per user, revoked on sign-out, deactivation and any
password change. Two-factor sign-in is TOTP (django-otp) with recovery codes.
"""

import secrets
import string

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from scr_escc.alerts import queue_alert
from scr_escc.audit import require_reason
from scr_escc.models import ALL_SITE_ROLES, TIME_ZONES, Alert, Role, Site, User
from scr_escc.selectors import get_study

MANAGE_USERS = "scr_escc.change_user"
TWO_FACTOR_ROLES = frozenset({Role.PI, Role.ADMIN})
RECOVERY_CODES = 10


def _check_manager(user) -> None:
    if not user.has_perm(MANAGE_USERS):
        raise PermissionDenied


def _save_user(user: User, *, by, reason: str, role: str | None = None, sites=None) -> User:
    """The audited write of a user: history rows with who and why, also for a change of role or
    sites (simple-history writes one for each many-to-many change)."""
    user._history_user = by
    user._change_reason = reason
    user.full_clean(exclude=["password"])
    if role is not None:
        if user.pk is None:
            user.skip_history_when_saving = True  # the first history row comes with role and sites
            user.save()
        # One history row for the whole change (each m2m step would write one of its own).
        user.skip_history_when_saving = True
        _set_role_and_sites(user, role=role, sites=sites)
        del user.skip_history_when_saving
    user.save()
    return user


def temporary_password() -> str:
    """A password for a first sign-in or a reset: 16 random letters and digits, to be changed at once."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(16))


def _check_role_and_sites(role: str, sites) -> None:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role “%(role)s”.") % {"role": role}})
    sites = list(sites or [])
    if role not in ALL_SITE_ROLES and not sites:
        raise ValidationError({"sites": _("Site staff must belong to at least one site.")})


def _set_role_and_sites(user: User, *, role: str, sites) -> None:
    _check_role_and_sites(role, sites)
    sites = list(sites or [])
    user.groups.set([Group.objects.get(name=role)])
    user.sites.set(sites if role not in ALL_SITE_ROLES else [])
    user.is_staff = role == Role.ADMIN


def invite_user(
    *, by, username: str, role: str, sites=(), email: str = "", first_name: str = "", last_name: str = ""
) -> tuple[User, str]:
    """A data manager creates an account; the answer carries a temporary password, changed at first sign-in."""
    _check_manager(by)
    password = temporary_password()
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, must_change_password=True)
    user.set_password(password)
    with transaction.atomic():
        _save_user(user, by=by, reason=_("Account created"), role=role, sites=sites)
    return user, password


def create_user(
    *,
    username: str,
    role: str,
    password: str,
    sites=(),
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    by=None,
) -> User:
    """An account with a chosen password (the create_user command, the demo)."""
    _check_role_and_sites(role, sites)
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    validate_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        _save_user(user, by=by, reason=_("Account created"), role=role, sites=sites)
    return user


def change_role_and_sites(*, by, user: User, role: str, sites, reason: str | None) -> User:
    _check_manager(by)
    reason = require_reason(reason, field="reason")
    if by.pk == user.pk:
        # A data manager never changes their own role: a second data manager does, in the audit trail.
        raise ValidationError({"role": _("You cannot change your own role or sites.")})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _save_user(user, by=by, reason=reason, role=role, sites=sites)
    return user


def revoke_access(user: User) -> None:
    """End every way the user is signed in: API tokens and browser sessions."""
    AuthToken.objects.filter(user=user).delete()
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()


def set_active(*, by, user: User, active: bool, reason: str | None) -> User:
    """Deactivate a leaver (never delete: the audit trail names them), or reactivate."""
    _check_manager(by)
    reason = require_reason(reason, field="reason")
    if by.pk == user.pk and not active:
        raise ValidationError({"reason": _("You cannot deactivate your own account.")})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.is_active = active
        _save_user(user, by=by, reason=reason)
        if not active:
            revoke_access(user)
    return user


RESET_WHAT = {"Password": gettext_lazy("Password"), "Second factor": gettext_lazy("Second factor")}


def _notify_reset(*, by, user: User, what: str, reason: str) -> None:
    """Tell the account's owner and every PI and data manager that someone reset its credentials:
    a data manager could otherwise act as the PI unnoticed."""
    recipients = sorted(
        set(
            User.objects.filter(is_active=True, groups__name__in=[Role.PI, Role.ADMIN])
            .exclude(email="")
            .values_list("email", flat=True)
        )
        | ({user.email} if user.email else set())
    )
    at = f"{timezone.localtime():%Y-%m-%d %H:%M %Z}"
    names = {
        "account": user.get_username(),
        "by": by.get_username(),
        "by_name": by.get_full_name() or by.get_username(),
    }

    def render() -> tuple[str, str]:  # in each recipient's language (scr_escc.alerts)
        label = str(RESET_WHAT.get(what, what))
        subject = _("%(what)s of %(account)s reset by %(by)s") % {"what": label, **names}
        body = _(
            "The %(what)s of the account %(account)s (%(role)s) was reset by %(by_name)s at %(at)s.\n"
            "Reason given: %(reason)s\n\nIf the account's owner did not ask for this, tell the PI and the "
            "data managers at once."
        ) % {"what": label.lower(), "role": user.role_label, "at": at, "reason": reason, **names}
        return subject, body

    queue_alert(
        kind=Alert.Kind.ACCOUNT_SECURITY,
        key=f"account_security:{user.pk}:{what}:{timezone.now().isoformat()}",
        render=render,
        link=f"/accounts/users/{user.pk}/",
        recipients=recipients,
    )


def reset_password(*, by, user: User, reason: str | None) -> str:
    """A data manager gives a temporary password (changed at the next sign-in); access is revoked."""
    _check_manager(by)
    if by.pk == user.pk:
        raise ValidationError({"reason": _("Change your own password on the Password page.")})
    reason = require_reason(reason, field="reason")
    password = temporary_password()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.must_change_password = True
        _save_user(user, by=by, reason=_("Password reset: %(reason)s") % {"reason": reason})
        revoke_access(user)
        _notify_reset(by=by, user=user, what="Password", reason=reason)
    return password


def change_own_password(*, user: User, old_password: str, new_password: str) -> User:
    """Everyone: a new password (validated); every token and other session is revoked."""
    if not user.check_password(old_password or ""):
        raise ValidationError({"old_password": _("Your current password is not correct.")})
    if old_password == new_password:
        raise ValidationError({"new_password": _("Choose a password different from the current one.")})
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationError({"new_password": error.messages}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        _save_user(user, by=user, reason=_("Password changed"))
        revoke_access(user)
    return user


# --- API tokens ----------------------------------------------------------------------------


def issue_token(*, user: User) -> tuple[AuthToken, str]:
    """A new API token (the caller sees it once; only its hash is stored)."""
    return AuthToken.objects.create(user=user)


# --- Two-factor sign-in (TOTP) ---------------------------------------------------------------


def two_factor_required(user: User) -> bool:
    """PIs and data managers when the study requires it — and anyone who chose to set it up."""
    if not user.is_authenticated:
        return False
    if user.role in TWO_FACTOR_ROLES and get_study().two_factor_required:
        return True
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def start_totp_setup(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator for the user to scan (any earlier unconfirmed one is replaced)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def confirm_totp(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm the authenticator with a first code; returns the recovery codes, shown once."""
    if device.user_id != user.pk or not device.verify_token((code or "").strip()):
        raise ValidationError({"code": _("This code is not right. Check the time on your phone and try again.")})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        _save_user(user, by=user, reason=_("Two-factor sign-in set up"))
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery codes")
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


def verify_second_factor(*, user: User, code: str):
    """The device a code belongs to (TOTP or a recovery code, used once), or None."""
    return match_token(user, (code or "").replace(" ", ""))


def reset_two_factor(*, by, user: User, reason: str | None) -> User:
    """A data manager removes a user's authenticator and recovery codes (lost phone); audited."""
    _check_manager(by)
    reason = require_reason(reason, field="reason")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _save_user(user, by=by, reason=_("Two-factor sign-in reset: %(reason)s") % {"reason": reason})
        revoke_access(user)
        _notify_reset(by=by, user=user, what="Second factor", reason=reason)
    return user


def sites_for_choice():
    return Site.objects.filter(active=True).order_by("code")


def set_preferences(*, user: User, language: str, time_zone: str) -> User:
    """The user's own language and time zone (kept in the user's history)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    if time_zone and time_zone not in dict(TIME_ZONES):
        raise ValidationError({"time_zone": _("Choose one of the time zones offered.")})
    if (user.language, user.time_zone) != (language, time_zone):
        user.language, user.time_zone = language, time_zone
        _save_user(user, by=user, reason=_("Preferences changed"))
    return user


def set_language(*, user: User, language: str) -> User:
    """The user's own language for pages and alert emails (kept in the user's history)."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    if user.language != language:
        user.language = language
        _save_user(user, by=user, reason=_("Language changed"))
    return user
