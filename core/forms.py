"""Showing a service's refusal on a Django form."""

from __future__ import annotations

from typing import Any

from core.errors import DomainError


def add_error_details_to_form(form: Any, error: DomainError) -> None:
    """Show a service's refusal on a Django form: each message it gives for a field on that field (or
    above the form when the form has no such field); with no details, its message above the form."""
    if not error.details:
        form.add_error(None, error.message)
    for field, messages in error.details.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
