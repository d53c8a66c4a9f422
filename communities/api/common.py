"""Request helpers and lookups of the communities API (permission-checked through the selectors: 404 alike)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from communities import selectors
from communities.models import (
    Community,
    Post,
    Tag,
)
from communities.permissions import can_moderate
from core.errors import NotAllowed
from members.requests import request_member
from tenants.requests import request_tenant

# ---------------------------------------------------------------------------------------------
# Request helpers and lookups (permission-checked through the selectors: 404 alike)
# ---------------------------------------------------------------------------------------------


# Paged lists: `limit` (documented default and maximum) and an opaque `cursor` taken from the
# previous page's `next_cursor`; a bad value of either is a 400 naming it, never a silent first page.
TOPICS_PAGE, FEED_PAGE, MAX_PAGE = 30, 20, 100
CURSOR_PARAMETER = OpenApiParameter(
    "cursor", str, required=False, description="next_cursor of the previous page; leave out for the first page"
)


def _limit_parameter(default: int) -> OpenApiParameter:
    return OpenApiParameter(
        "limit", int, required=False, description=f"Results per page: 1 to {MAX_PAGE} (default {default})"
    )


def _readable_community(request: Request, slug: str) -> Community:
    return selectors.access_readable_community(
        member=request_member(request), tenant=request_tenant(request), slug=slug
    )


def _readable_post(request: Request, post_id: int) -> Post:
    return selectors.access_post_by_id(member=request_member(request), tenant=request_tenant(request), post_id=post_id)


def _readable_tag(request: Request, tag_id: int) -> Tag:
    return selectors.access_tag(member=request_member(request), tenant=request_tenant(request), tag_id=tag_id)


def _require_moderator(request: Request) -> None:
    if not can_moderate(member=request_member(request), tenant=request_tenant(request)):
        raise NotAllowed("Only this community's moderators can do that.", code="not_moderator")
