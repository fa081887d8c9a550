"""API token authentication: ``Authorization: Bearer <token>`` or ``Token <token>``.

Both schemes carry the same key (from ``POST /api/auth/token/``): ``Bearer`` is what
HTTP clients and generated OpenAPI clients send by default, ``Token`` is DRF's own
word and what v1 documented. A header with another scheme (``Basic ...``) is not
ours and leaves the caller anonymous; a ``Bearer``/``Token`` header that is malformed
or names no token gets a 401 whose message says what is wrong with it.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

SCHEMES = ("Bearer", "Token")


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts:
            return None
        scheme = next((s for s in SCHEMES if parts[0].lower() == s.lower().encode()), None)
        if scheme is None:
            return None
        if len(parts) == 1:
            raise exceptions.AuthenticationFailed(
                f"Invalid Authorization header: no token after {scheme!r}. "
                f"Send 'Authorization: {scheme} <token>'."
            )
        if len(parts) > 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: the token must not contain spaces."
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: the token contains characters no token has."
            ) from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related("user").get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(
                "Invalid token: no account has this token (it may have been replaced or "
                "the account erased). Get a new one from POST /api/auth/token/."
            ) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token: the account is inactive.")
        return (token.user, token)

    def authenticate_header(self, request) -> str:
        # The WWW-Authenticate challenge of a 401.
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The schema's ``tokenAuth``: HTTP bearer (``Token <key>`` works too)."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The key from POST /api/auth/token/, sent as "
            "`Authorization: Bearer <key>` (or `Authorization: Token <key>`).",
        }
