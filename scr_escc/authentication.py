"""API token authentication: django-rest-knox, with an absolute lifetime.

knox renews a token on use (the 30-minute idle timeout) and stops renewing it 12 hours after
issue, but a token renewed just before that would still live for its idle window; here a token
older than the absolute lifetime is refused at once and deleted.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.settings import knox_settings
from rest_framework.exceptions import AuthenticationFailed


class ExpiringTokenAuthentication(TokenAuthentication):
    def validate_user(self, auth_token):
        limit = knox_settings.AUTO_REFRESH_MAX_TTL
        if limit is not None and auth_token.created + limit <= timezone.now():
            auth_token.delete()
            raise AuthenticationFailed(_("This token reached its 12-hour lifetime: sign in again."))
        return super().validate_user(auth_token)


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the token: `Authorization: Token <token>`."""

    target_class = ExpiringTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token <token>, from POST /api/v1/auth/token/",
        }
