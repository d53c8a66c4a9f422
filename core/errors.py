"""Domain exceptions: services raise them with a code; the API and web layers render them."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class InvalidInput(DomainError):
    code = "invalid"


class NotFound(DomainError):
    """Missing (or hidden: the same answer, so ids reveal nothing)."""

    code = "not_found"
    http_status = 404


class NotAllowed(DomainError):
    code = "forbidden"
    http_status = 403


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
