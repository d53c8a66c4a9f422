from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.http import urlencode

from members.mfa import holds_privileged_role, is_privileged_request, session_passed_mfa
from tenants.selectors import root_url

SESSION_GENERATION_KEY = "kindred_session_generation"


class SessionGenerationMiddleware:
    """Ends any session issued before the member's last sign-out, on whichever host it lives."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            issued_under = request.session.get(SESSION_GENERATION_KEY)
            if issued_under != user.session_generation:
                logout(request)
        return self.get_response(request)


class PrivilegedMFAMiddleware:
    """Platform staff, partner admins and moderators use privileged areas (Django and Wagtail admin,
    /manage/, moderation and staff API endpoints) only from a session that passed two-factor.

    Web requests are walked to the root's two-factor gate (enrolment on first use); API requests get
    403 ``mfa_required``. Members without such a role pass through: the view refuses them itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        public = getattr(getattr(request, "tenant", None), "schema_name", "public") == "public"
        if not is_privileged_request(request, public=public):
            return None
        if session_passed_mfa(request) or not holds_privileged_role(request, member=user, public=public):
            return None
        query = {"next": request.get_full_path()}
        if not public:
            query["host"] = request.get_host().split(":")[0]
        gate = root_url(request=request, path=f"/auth/mfa/?{urlencode(query)}")
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "code": "mfa_required",
                    "message": "Your role here needs two-factor authentication. Sign in with it on the web first.",
                    "details": {"url": gate},
                },
                status=403,
            )
        return HttpResponseRedirect(gate)
