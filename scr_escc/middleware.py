"""API clients get JSON, never Django's HTML error pages."""

import logging

from django.http import JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") and response.status_code == 404 and not _is_json(response):
            return JsonResponse({"detail": "Not found."}, status=404)
        return response

    def process_exception(self, request, exception):
        if request.path.startswith("/api/"):
            logger.exception("Unhandled error in %s %s", request.method, request.path)
            return JsonResponse({"detail": "Server error. The failure was logged."}, status=500)
        return None


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


LOCKED_OUT = "Account locked after too many wrong passwords (sign-in or e-signature). Try again in 30 minutes."


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out request: JSON for API clients (like every API error),
    the "account locked" page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKED_OUT}, status=403)
    return render(request, "registration/locked_out.html", status=429)
