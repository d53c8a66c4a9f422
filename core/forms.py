"""Showing a service's refusal on a Django form."""

from __future__ import annotations

from typing import Any

from core.errors import DomainError


def add_error_details_to_form(form: Any, error: DomainError, *, message_on_field: bool = False) -> None:
    """Show a service's refusal on a Django form.

    By default each message the error gives for a field goes on that field (or above the form when the
    form has no such field); with no details, its message goes above the form. With
    ``message_on_field`` the error's own sentence ("Write something first.") is shown instead of the
    terse per-field details ("Required."): on the one form field it names, or above the form when it
    names none or several.
    """
    if message_on_field:
        named = [name for name in error.details if name in form.fields]
        form.add_error(named[0] if len(named) == 1 else None, error.message)
        return
    if not error.details:
        form.add_error(None, error.message)
    for field, messages in error.details.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
