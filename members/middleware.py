from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.http import urlencode

from members.mfa import holds_privileged_role, is_privileged_request, session_passed_mfa
from tenants.selectors import root_path, root_url

SESSION_GENERATION_KEY = "kindred_session_generation"
# The host (without port) and the tenant schema a session was opened on; see docs/security-model.md.
SESSION_HOST_KEY = "kindred_session_host"
SESSION_SCHEMA_KEY = "kindred_session_schema"


def request_host(request: HttpRequest) -> str:
    """The host name the tenant middleware routed by (cookies ignore ports, so the binding does too)."""
    return request.get_host().split(":")[0].lower()


def request_schema(request: HttpRequest) -> str:
    tenant = getattr(request, "tenant", None)
    return str(getattr(tenant, "schema_name", ""))


def session_belongs_here(request: HttpRequest) -> bool:
    session = request.session
    return session.get(SESSION_HOST_KEY) == request_host(request) and session.get(SESSION_SCHEMA_KEY) == request_schema(
        request
    )


def bind_session_to_host(request: HttpRequest) -> None:
    request.session[SESSION_HOST_KEY] = request_host(request)
    request.session[SESSION_SCHEMA_KEY] = request_schema(request)


class SessionHostMiddleware:
    """Accept a signed-in session only on the host (and tenant) it was opened on.

    Sessions live in one shared store, so a cookie copied from one host to another would otherwise
    be honoured there too. A session from elsewhere (or one that never recorded its host) is set
    aside for this request: the visitor is anonymous and the response clears the cookie. The
    session itself is left alone, so the host it belongs to keeps it.

    On the way out, a session that became signed in during this request (whatever view did it:
    ours, the admin's, a library's) is stamped with this host, tenant and the member's generation.
    Runs after SessionMiddleware and the tenant middleware, before AuthenticationMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.get(SESSION_KEY) is not None and not session_belongs_here(request):
            # A fresh, empty store: SessionMiddleware then deletes the visitor's cookie.
            request.session = session.__class__()
        response = self.get_response(request)
        self._stamp_new_sign_in(request)
        return response

    @staticmethod
    def _stamp_new_sign_in(request: HttpRequest) -> None:
        session = request.session
        if session.get(SESSION_KEY) is None or SESSION_HOST_KEY in session:
            return
        bind_session_to_host(request)
        user = getattr(request, "user", None)
        if SESSION_GENERATION_KEY not in session and user is not None and user.is_authenticated:
            session[SESSION_GENERATION_KEY] = user.session_generation


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
        gate = root_url(request=request, path=f"{root_path('mfa-gate')}?{urlencode(query)}")
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
