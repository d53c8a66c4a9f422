"""Kindred's adapter for django-allauth (root domain): allauth runs sign-in, password reset and change,
reauthentication and two-factor; these hooks keep Kindred's rules in its flows.

- a sign-in opens a session under the member's session generation (members.middleware);
- a new password bumps the generation, ending every other session on every host, and keeps this one;
- an unconfirmed email address cannot sign in (Kindred's own verification, Member.email_verified_at);
- emails are rendered during the request and sent by Celery, so a request for a known address and one
  for an unknown address take the same time (no enumeration by timing);
- redirects after sign-in go to local paths only.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.internal.stagekit import clear_login
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from members import services
from members.middleware import SESSION_GENERATION_KEY
from members.models import Member
from members.tasks import send_rendered_email


def _lockout_message() -> str:
    minutes = max(1, round(settings.KINDRED_LOGIN_LOCKOUT_SECONDS / 60))
    return (
        f"Too many failed sign-in attempts. For your safety, signing in is paused for {minutes} minute"
        f"{'s' if minutes != 1 else ''}: try again after that, or reset your password."
    )


class KindredAccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": "That email and password do not match an account.",
        "too_many_login_attempts": _lockout_message(),
        "rate_limited": "Too many requests. Please wait a minute and try again.",
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Sign-up is Kindred's own form (profile fields, consent steps) at the same address.
        return False

    def is_safe_url(self, url: str | None) -> bool:
        return bool(url) and str(url).startswith("/") and not str(url).startswith("//") and "\\" not in str(url)

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse | None:
        refused = super().pre_login(request, user, **kwargs)
        if refused is not None:
            return refused
        if isinstance(user, Member) and not user.email_verified:
            clear_login(request)
            return render(request, "members/unverified.html", {"email": user.email})
        return None

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        super().login(request, user)
        request.session[SESSION_GENERATION_KEY] = user.session_generation  # type: ignore[attr-defined]

    def set_password(self, user: AbstractBaseUser, password: str) -> None:
        """Used by both the change and the reset flows."""
        assert isinstance(user, Member)
        services.set_password(member=user, password=password)
        request = allauth_context.request
        if request is not None and request.user.is_authenticated and request.user.pk == user.pk:
            # Every other session ends; the one that changed the password goes on (allauth then
            # refreshes the session's password hash itself).
            request.session[SESSION_GENERATION_KEY] = user.session_generation

    def reauthenticate(self, user: AbstractBaseUser, password: str) -> bool:
        assert isinstance(user, Member)
        again = self.authenticate(allauth_context.request, email=user.email, password=password)
        return again is not None and again.pk == user.pk

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Sensitive steps (turning on two-factor) ask for the password again unless it was typed, or a
        code entered, within ACCOUNT_REAUTHENTICATION_TIMEOUT: a fresh sign-in is fresh enough."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = allauth_context.request
        if request is None or not request.user.is_authenticated:
            return True
        window = settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
        records = get_authentication_records(request, request.user)
        return not any(
            record.get("method") in {"password", "mfa"} and time.time() - record.get("at", 0) < window
            for record in records
        )

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        request = allauth_context.request
        ctx = {"request": request, "email": email, "platform": settings.KINDRED_PLATFORM_NAME, **context}
        message = self.render_mail(template_prefix, email, ctx)
        html = next((body for body, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), "")
        subject, text, to = str(message.subject), str(message.body), list(message.to)
        transaction.on_commit(lambda: send_rendered_email.delay(subject=subject, body=text, to=to, html=str(html)))
