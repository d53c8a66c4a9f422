"""`Authorization: Bearer <token>` for the API, and the scope permission it applies to every view.

The scope is checked while authenticating, so it holds for every API view whatever permission
classes the view declares (many declare their own). Session requests are untouched.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from apitokens import services
from apitokens.models import ApiToken
from apitokens.scopes import required_scope
from members.models import Member


class InvalidToken(exceptions.APIException):
    # Not an AuthenticationFailed: DRF would turn that into 403 when the session class comes first.
    status_code = 401
    default_code = "invalid_token"
    default_detail = "The API token is not valid here (unknown, expired, revoked or for another site)."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.auth_header = 'Bearer realm="api", error="invalid_token"'


class InsufficientScope(exceptions.APIException):
    status_code = 403
    default_code = "insufficient_scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"This API token lacks the '{scope}' scope needed here.")
        self.auth_header = f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'


def check_token_scope(*, request: Request, token: ApiToken) -> None:
    match = getattr(request, "resolver_match", None)
    scope = required_scope(url_name=match.url_name if match else None, method=request.method or "GET")
    if scope not in token.scopes:
        raise InsufficientScope(scope)


class TokenScopePermission(permissions.BasePermission):
    """A token-authenticated request needs the scope its endpoint and method call for (also listed
    in DEFAULT_PERMISSION_CLASSES; BearerTokenAuthentication applies it for every view)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiToken):
            check_token_scope(request=request, token=request.auth)
        return True


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Member, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise InvalidToken("Send the token as 'Authorization: Bearer <token>'.")
        try:
            token = services.authenticate_token(
                raw=parts[1].decode("ascii", "replace"),
                tenant=getattr(connection, "tenant", None),
            )
        except services.TokenRefused:
            raise InvalidToken() from None
        member = token.member
        # Role checks (members.selectors) cap this principal at what the scopes allow.
        member.api_scopes = frozenset(token.scopes)  # type: ignore[attr-defined]
        check_token_scope(request=request, token=token)
        return member, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
