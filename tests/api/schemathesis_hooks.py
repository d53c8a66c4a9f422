"""Checks Kindred adds to schemathesis' own (loaded by the CLI through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


def _header(response: Any, name: str) -> str:
    value = response.headers.get(name.lower()) or response.headers.get(name) or ""
    return value[0] if isinstance(value, list) else str(value)


@schemathesis.check
def api_errors_are_json_in_one_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error under /api/v1/ is JSON {"code", "message", "details"}, never an HTML page."""
    if response.status_code < 400:
        return None
    content_type = _header(response, "Content-Type")
    if not content_type.startswith("application/json"):
        raise AssertionError(f"{response.status_code} answered with {content_type!r}, not JSON")
    body = json.loads(response.content)
    if not (isinstance(body, dict) and set(body) == {"code", "message", "details"}):
        raise AssertionError(f"{response.status_code} body is not the error shape: {str(body)[:200]}")
    if response.status_code == 401 and not _header(response, "WWW-Authenticate"):
        raise AssertionError("401 without WWW-Authenticate")
    if response.status_code == 429 and not _header(response, "Retry-After"):
        raise AssertionError("429 without Retry-After")
    return True
