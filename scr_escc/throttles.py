"""API throttles (DRF): sign-in attempts per address, writes per user. A module of their own, so
settings can name them without importing the API views."""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class WriteThrottle(UserRateThrottle):
    """Writes (POST, PUT, PATCH, DELETE) per user; reads are not throttled."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class TokenThrottle(AnonRateThrottle):
    scope = "token"
