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


def add_error_details_to_form(form: Any, error: DomainError) -> None:
    """Show a service's refusal on a Django form: each message it gives for a field on that field (or
    above the form when the form has no such field); with no details, its message above the form."""
    if not error.details:
        form.add_error(None, error.message)
    for field, messages in error.details.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
