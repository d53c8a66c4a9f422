"""How every community page renders: the shared context, and noindex unless the page may be indexed."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from communities.selectors import unread_count
from members.requests import request_member
from members.selectors import can_moderate_tenant
from tenants.requests import request_tenant

ROBOTS_NOINDEX = "noindex, nofollow"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, indexable: bool = False, status: int = 200
) -> HttpResponse:
    """Render a tenant page. Only open communities' pages may be indexed: patients' posts elsewhere are
    not for the whole web, so everything else says so twice (header for crawlers that skip HTML, meta)."""
    member = request_member(request)
    context = {
        **context,
        "indexable": indexable,
        "unread_notifications": unread_count(member=member) if member.is_authenticated else 0,
        "can_manage": member.is_authenticated and can_moderate_tenant(member=member, tenant=request_tenant(request)),
    }
    response = render(request, template, context, status=status)
    if not indexable:
        response["X-Robots-Tag"] = ROBOTS_NOINDEX
    return response
