"""Sends a signed-in member with pending re-consent to the interstitial page, on every host."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import urlencode

from consent.selectors import has_pending_reconsent

REVIEW_PATH = "/consent/review/"
# The interstitial itself, the member's consent page, sign-out, hand-off, static files, the API
# (clients get the gate's "no" instead), health checks and the admin sites never redirect.
EXEMPT_PREFIXES = (
    REVIEW_PATH,
    "/accounts/consent/",
    "/consent/policy/",
    "/accounts/logout/",
    "/auth/logout/",
    "/auth/handoff/",
    "/static/",
    "/media/",
    "/api/",
    "/healthz/",
    "/admin/",
)


class ReconsentMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            request.method in ("GET", "HEAD")
            and user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and has_pending_reconsent(member=user)
        ):
            return HttpResponseRedirect(f"{REVIEW_PATH}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
