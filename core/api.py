"""Small helpers the apps' DRF views share: reading a query parameter, naming fields as sent."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from core.errors import DomainError, InvalidInput


def query_int(params: Mapping[str, Any], name: str, *, default: int, minimum: int, maximum: int) -> int:
    """A whole-number query parameter within its documented range, or a 400 naming it."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not minimum <= value <= maximum:
        raise InvalidInput(
            f"{name} must be a whole number from {minimum} to {maximum}.",
            details={name: [f"A whole number from {minimum} to {maximum}."]},
        )
    return value


@contextmanager
def details_as_sent(names: Mapping[str, str]) -> Iterator[None]:
    """A service names fields in its own words; the API's ``details`` use the names the client sent."""
    try:
        yield
    except DomainError as error:
        error.details = {names.get(key, key): value for key, value in error.details.items()}
        raise
