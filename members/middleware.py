from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

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
