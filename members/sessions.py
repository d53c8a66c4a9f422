"""Opening and closing sessions on the current host (web layer helpers, no domain rules)."""

from __future__ import annotations

from django.contrib.auth import login, logout, update_session_auth_hash
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from members.middleware import SESSION_GENERATION_KEY, bind_session_to_host
from members.models import Member


def start_session(request: HttpRequest, member: Member) -> None:
    """Open a session for ``member`` valid on this host (and tenant) only."""
    login(request, member, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_GENERATION_KEY] = member.session_generation
    bind_session_to_host(request)


def keep_session_after_password_change(request: HttpRequest, member: Member) -> None:
    """A new password ends every session (the generation); the one that set it goes on."""
    update_session_auth_hash(request, member)
    request.session[SESSION_GENERATION_KEY] = member.session_generation


def end_session(request: HttpRequest) -> None:
    logout(request)


def safe_next(request: HttpRequest, candidate: str | None, default: str = "/") -> str:
    """Only same-host relative paths: a redirect target must never leave for another site."""
    local = bool(candidate) and candidate.startswith("/") and not candidate.startswith("//")  # type: ignore[union-attr]
    if local and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate  # type: ignore[return-value]
    return default
