"""One shape for every API error: {"code", "message", "details"}."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import DomainError

# Signed-out requests are told how to sign in (RFC 9110 requires the header on a 401). Session
# cookies have no registered scheme; it follows the challenge of an authentication class with its
# own header (a bearer token), which DRF sets before this handler runs.
WWW_AUTHENTICATE = 'Session realm="Kindred", sign_in="/accounts/login/"'
DEFAULT_RETRY_AFTER_SECONDS = 60


def kindred_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = _error_response(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        challenge = response.get("WWW-Authenticate")
        response["WWW-Authenticate"] = f"{challenge}, {WWW_AUTHENTICATE}" if challenge else WWW_AUTHENTICATE
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and "Retry-After" not in response:
        response["Retry-After"] = str(_retry_after(exc))
    return response


def _retry_after(exc: Exception) -> int:
    wait = getattr(exc, "wait", None)  # DRF's Throttled sets it; its stubs do not declare it
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        return max(1, int(wait + 0.999))
    details = getattr(exc, "details", None) or {}
    try:
        return max(1, int(details.get("retry_after_seconds", DEFAULT_RETRY_AFTER_SECONDS)))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS


def _error_response(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "message": exc.message, "details": exc.details}, status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(
            {"code": "invalid", "message": "The request is not valid.", "details": details},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"code": "invalid", "message": "The request is not valid.", "details": exc.detail}
    else:
        codes = exc.get_codes()
        response.data = {
            "code": codes if isinstance(codes, str) else "error",
            "message": str(exc.detail),
            "details": {},
        }
    return response


class ErrorSerializer(serializers.Serializer[Any]):
    """The one shape of every error under /api/v1/."""

    code = serializers.CharField(help_text="Stable, machine-readable reason, e.g. invalid, not_found.")
    message = serializers.CharField(help_text="A sentence to show a person.")
    details = serializers.DictField(
        help_text="Per field the client sent (parameter or body key): a list of messages; may be empty."
    )


_ERROR_DESCRIPTIONS = {
    "400": "Invalid input (the details name each field or parameter)",
    "401": "Not signed in (WWW-Authenticate says how)",
    "403": "Signed in, but not allowed (or the CSRF check failed)",
    "404": "Not found (or not visible to you: the same answer)",
    "409": "Conflicts with the current state",
    "429": "Too many requests (Retry-After says when to try again)",
}
_ERROR_HEADERS = {
    "401": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "How to sign in"}},
    "429": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class KindredAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus what the serializers cannot say by themselves: a required text
    field that refuses blanks has ``minLength: 1``, and every operation documents its error answers
    in the one error shape."""

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            isinstance(field, serializers.CharField)
            and not field.allow_blank
            and not field.read_only
            and schema.get("type") == "string"
            and "minLength" not in schema
        ):
            schema["minLength"] = 1
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        error = self._get_response_for_code(ErrorSerializer, "400", direction=direction)
        for code in self._error_codes():
            if code not in responses or not responses[code].get("content"):
                responses[code] = {**error, "description": _ERROR_DESCRIPTIONS[code]}
                if code in _ERROR_HEADERS:
                    responses[code]["headers"] = _ERROR_HEADERS[code]
        return responses

    def _error_codes(self) -> list[str]:
        codes = ["400", "403", "404"]
        if self._may_need_sign_in():
            codes.insert(1, "401")
        if self.method in _WRITES:
            codes += ["409", "429"]
        return codes

    def _may_need_sign_in(self) -> bool:
        anonymous: Any = SimpleNamespace(user=AnonymousUser(), method=self.method, auth=None)
        try:
            return not all(p.has_permission(anonymous, self.view) for p in self.view.get_permissions())
        except Exception:  # a permission that needs more of a request than a schema has: assume sign-in
            return True


def only_kindred_endpoints(endpoints: list[tuple[str, str, str, Any]]) -> list[tuple[str, str, str, Any]]:
    """Describe Kindred's own API, not Wagtail's internal admin endpoints."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
