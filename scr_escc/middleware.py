"""API clients get JSON, never Django's HTML error pages; pages in the user's language."""

import logging

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from scr_escc.transactions import DatabaseBusy, is_retryable

logger = logging.getLogger(__name__)


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") and response.status_code == 404 and not _is_json(response):
            return JsonResponse({"detail": _("Not found.")}, status=404)
        return response

    def process_exception(self, request, exception):
        if is_retryable(exception) or isinstance(exception, DatabaseBusy):  # "try again", never a 500
            logger.warning("%s %s: %s", request.method, request.path, exception)
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": DatabaseBusy().message}, status=503)
            return render(request, "503.html", status=503)
        if request.path.startswith("/api/"):
            logger.exception("Unhandled error in %s %s", request.method, request.path)
            return JsonResponse({"detail": _("Server error. The failure was logged.")}, status=500)
        return None


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


LOCKED_OUT = _("Account locked after too many wrong passwords (sign-in or e-signature). Try again in 30 minutes.")


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out request: JSON for API clients (like every API error),
    the "account locked" page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKED_OUT}, status=403)
    return render(request, "registration/locked_out.html", status=429)


# Pages a signed-in user may open before changing a temporary password or passing the second factor.
_GATE_OPEN = (
    "/accounts/logout/",
    "/accounts/two-factor/",
    "/api/v1/auth/token/",  # it asks for the second factor itself
    "/api/v1/auth/logout",
    "/static/",
    "/favicon.ico",
)
# Open before the second factor only to change a temporary password (else a stolen password
# alone could change the password and lock the owner out).
_CHANGE_PAGE = "/accounts/password/"


class AccountGateMiddleware:
    """Before anything else, a temporary password is changed and (for PI and data managers,
    when the study requires it) the second factor is given. Pages redirect; API calls made
    with the browser session get 403 JSON. Token calls are gated when the token is issued."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from scr_escc.accounts import two_factor_required

        user = getattr(request, "user", None)
        if not user or not user.is_authenticated or request.path.startswith(_GATE_OPEN):
            return self.get_response(request)
        if user.must_change_password:
            if request.path.startswith(_CHANGE_PAGE):
                return self.get_response(request)
            return self._stop(request, "change-password", _("Change your temporary password first."))
        if two_factor_required(user) and not user.is_verified():
            return self._stop(request, "two-factor", _("Give the code of your authenticator app first."))
        return self.get_response(request)

    @staticmethod
    def _stop(request, url_name: str, message: str):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403)
        return redirect(f"{reverse(url_name)}?next={request.get_full_path()}")


class UserLanguageMiddleware:
    """Pages in the signed-in user's language (their own choice, else the study's default) and
    time zone (their own, else TIME_ZONE, Asia/Shanghai).

    Runs after authentication; before sign-in, Django's LocaleMiddleware reads the language cookie
    (the switcher sets it) or the browser's Accept-Language. Dates stay ISO 8601 in both languages.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = user.language or _study_language()
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
            timezone.activate(user.time_zone or settings.TIME_ZONE)
        return self.get_response(request)


def _study_language() -> str:
    from scr_escc.models import Study

    return Study.objects.values_list("default_language", flat=True).first() or settings.LANGUAGE_CODE
