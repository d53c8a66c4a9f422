"""Typed access to the member behind a request."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from rest_framework.request import Request

from members.models import Member


def request_member(request: HttpRequest | Request) -> Member:
    """The signed-in member. Anonymous visitors pass through as AnonymousUser: every selector and
    service checks ``is_authenticated`` itself, so call sites keep one type."""
    return cast(Member, request.user)
