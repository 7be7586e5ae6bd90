"""Pages of accounts: change my password, two-factor sign-in, and the data manager's user pages."""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from scr_escc import accounts
from scr_escc.account_forms import (
    AccountActionForm,
    ChangePasswordForm,
    ChangeRoleForm,
    InviteUserForm,
    PreferencesForm,
    SecondFactorForm,
)
from scr_escc.audit import history_entries
from scr_escc.models import Role, User
from scr_escc.views import apply_change

MANAGE = accounts.MANAGE_USERS


def _next(request, default: str = "home") -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else default


@login_required
def change_password(request):
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changed = apply_change(
            form,
            lambda: accounts.change_own_password(
                user=request.user, old_password=data["old_password"], new_password=data["new_password"]
            ),
        )
        if changed is not None:
            update_session_auth_hash(request, changed)  # this browser stays signed in; every other is out
            messages.success(request, _("Password changed. Your API tokens and other sessions were signed out."))
            return redirect(_next(request))
    forced = request.user.must_change_password
    return render(request, "accounts/change_password.html", {"form": form, "forced": forced})


@login_required
def two_factor(request):
    """Set up the authenticator (first time) or give its code (every sign-in)."""
    device = accounts.confirmed_totp(request.user)
    if device is None:
        return _two_factor_setup(request)
    if request.user.is_verified():
        context = {"device": device, "recovery_codes_left": accounts.recovery_codes_left(request.user)}
        return render(request, "accounts/two_factor_on.html", context)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        matched = accounts.verify_second_factor(user=request.user, code=form.cleaned_data["code"])
        if matched is not None:
            otp_login(request, matched)
            return redirect(_next(request))
        form.add_error("code", _("This code is not right."))
    return render(request, "accounts/two_factor.html", {"form": form, "setup": False})


def _two_factor_setup(request):
    pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if request.method != "POST" or pending is None:
        pending = accounts.start_totp_setup(user=request.user)
    form = SecondFactorForm(request.POST or None, submit_label=_("Confirm the authenticator"))
    if request.method == "POST" and form.is_valid():
        codes = apply_change(
            form, lambda: accounts.confirm_totp(user=request.user, device=pending, code=form.cleaned_data["code"])
        )
        if codes is not None:
            otp_login(request, pending)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
    qr = segno.make(pending.config_url, error="m").svg_inline(scale=4, omitsize=True)
    context = {
        "form": form,
        "setup": True,
        "qr": mark_safe(qr),  # noqa: S308 - segno's own SVG
        "secret": _base32(pending),
        "required": accounts.two_factor_required(request.user),
    }
    return render(request, "accounts/two_factor.html", context)


def _base32(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


@permission_required(MANAGE, raise_exception=True)
def user_list(request):
    users = User.objects.prefetch_related("groups", "sites").order_by("-is_active", "username")
    role = request.GET.get("role")
    if role in Role.values:
        users = users.filter(groups__name=role)
    return render(request, "accounts/user_list.html", {"users": users, "roles": Role.choices})


@permission_required(MANAGE, raise_exception=True)
def user_create(request):
    form = InviteUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        made = apply_change(
            form,
            lambda: accounts.invite_user(
                by=request.user,
                username=data["username"],
                role=data["role"],
                sites=data["sites"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            ),
        )
        if made is not None:
            user, password = made
            _temporary_password_message(request, user, password)
            return redirect("user-detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form})


def _temporary_password_message(request, user, password: str) -> None:
    messages.warning(
        request,
        _("Temporary password of %(user)s: %(password)s — give it in person; it must be changed at first sign-in.")
        % {"user": user.username, "password": password},
    )


@permission_required(MANAGE, raise_exception=True)
def user_detail(request, pk):
    person = get_object_or_404(User.objects.prefetch_related("groups", "sites"), pk=pk)
    role_form = ChangeRoleForm(
        request.POST if request.POST.get("form") == "role" else None,
        initial={"role": person.role, "sites": list(person.sites.all())},
    )
    if request.method == "POST":
        done = _user_change(request, person, role_form)
        if done is not None:
            return done
    context = {
        "person": person,
        "role_form": role_form,
        "entries": history_entries(person),
        "has_two_factor": accounts.confirmed_totp(person) is not None,
    }
    return render(request, "accounts/user_detail.html", context)


def _user_change(request, person, role_form):
    if request.POST.get("form") == "role":
        if role_form.is_valid():
            data = role_form.cleaned_data
            changed = apply_change(
                role_form,
                lambda: accounts.change_role_and_sites(
                    by=request.user, user=person, role=data["role"], sites=data["sites"], reason=data["reason"]
                ),
            )
            if changed is not None:
                messages.success(request, _("Role and sites saved."))
                return redirect("user-detail", pk=person.pk)
        return None
    form = AccountActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for this change."))
        return redirect("user-detail", pk=person.pk)
    action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
    try:
        _account_action(request, person, action, reason)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("user-detail", pk=person.pk)


def _account_action(request, person, action: str, reason: str) -> None:
    if action in ("deactivate", "reactivate"):
        accounts.set_active(by=request.user, user=person, active=action == "reactivate", reason=reason)
        messages.success(
            request,
            _("Account deactivated: signed out everywhere.") if action == "deactivate" else _("Account reactivated."),
        )
    elif action == "reset_password":
        _temporary_password_message(
            request, person, accounts.reset_password(by=request.user, user=person, reason=reason)
        )
    else:
        accounts.reset_two_factor(by=request.user, user=person, reason=reason)
        messages.success(request, _("Two-factor sign-in reset: the user sets up a new authenticator."))


@require_POST
def choose_language(request):
    """The language switcher: remembered on the user (and in a cookie, for the sign-in page)."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("Unknown language."))
    if request.user.is_authenticated:
        accounts.set_language(user=request.user, language=language)
    target = request.POST.get("next") or request.headers.get("Referer") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure()
    )
    return response


@login_required
def preferences(request):
    """The user's language and time zone, kept on the account (and in its history)."""
    initial = {"language": request.user.language, "time_zone": request.user.time_zone}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = apply_change(
            form,
            lambda: accounts.set_preferences(user=request.user, language=data["language"], time_zone=data["time_zone"]),
        )
        if saved is not None:
            response = redirect("preferences")
            if data["language"]:
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, data["language"], samesite="Lax")
            with translation.override(data["language"] or None):
                messages.success(request, _("Preferences saved."))
            return response
    return render(request, "accounts/preferences.html", {"form": form})
