"""Pages: the tenant's home and its communities (join, leave, watch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from communities import services
from communities.feed import anonymous_feed, feed_for
from communities.forms import WatchLevelForm
from communities.models import (
    Community,
    CommunityMembershipStatus,
    TopicKind,
    Visibility,
    WatchLevel,
)
from communities.selectors import (
    access_community,
    active_community_ids,
    can_read_community,
    community_membership_of,
    community_topics,
    community_watch_level,
    curated_tags,
    find_communities,
    visible_communities,
)
from communities.views.rendering import _render
from core.errors import DomainError, InvalidInput
from members.requests import request_member
from members.selectors import attach_display_names, membership_of
from tenants.requests import request_tenant
from tenants.selectors import root_url

_Page = TypeVar("_Page")


def _first_page_if_stale(fetch: Callable[[str | None], _Page], cursor: str | None) -> _Page:
    """A person following an old or mangled "more" link sees the list from its start (the API says
    400 instead: a program should learn its cursor is wrong)."""
    try:
        return fetch(cursor)
    except InvalidInput:
        if cursor is None:
            raise
        return fetch(None)


def tenant_home(request: HttpRequest) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    page = _first_page_if_stale(
        lambda cursor: (
            feed_for(member=member, tenant=tenant, cursor=cursor)
            if member.is_authenticated
            else anonymous_feed(tenant=tenant, cursor=cursor)
        ),
        request.GET.get("cursor") or None,
    )
    community_query = request.GET.get("community_q", "").strip()
    if community_query:
        communities = find_communities(member=member, tenant=tenant, query=community_query)
    else:
        communities = list(visible_communities(member=member, tenant=tenant))
    joined = active_community_ids(member=member)
    attach_display_names([item.topic for item in page.items], tenant=tenant)
    context = {
        "feed": page,
        "communities": communities,
        "my_communities": [community for community in communities if community.pk in joined],
        "other_communities": [community for community in communities if community.pk not in joined],
        "membership": membership_of(member=member, tenant=tenant),
        "community_query": community_query,
        "directory_url": root_url(
            request=request,
            path=reverse("community-directory", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
            + f"?{urlencode({'q': community_query})}",
        ),
    }
    # The home page is personal (a member's feed) and lists members-only names: never indexed.
    return _render(request, "communities/tenant_home.html", context)


def community_detail(request: HttpRequest, slug: str) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    community = access_community(member=member, tenant=tenant, slug=slug)
    kind = request.GET.get("kind") if request.GET.get("kind") in TopicKind.values else None
    tag_slug = request.GET.get("tag") or None
    readable = can_read_community(member=member, tenant=tenant, community=community)
    page = (
        _first_page_if_stale(
            lambda cursor: community_topics(
                member=member, tenant=tenant, community=community, kind=kind, tag_slug=tag_slug, cursor=cursor
            ),
            request.GET.get("cursor") or None,
        )
        if readable
        else None
    )
    if page is not None:
        attach_display_names(page.items, tenant=tenant)
    community_membership = community_membership_of(member=member, community=community)
    watch_level = community_watch_level(member=member, community=community)
    context = {
        "community": community,
        "readable": readable,
        "page": page,
        "kind": kind,
        "tag_slug": tag_slug,
        "tags": curated_tags(community=community) if readable else [],
        "community_membership": community_membership,
        "is_participant": (
            community_membership is not None and community_membership.status == CommunityMembershipStatus.ACTIVE
        ),
        "watch_form": WatchLevelForm(initial={"level": watch_level or WatchLevel.NORMAL}),
        "filter_query": urlencode({key: value for key, value in (("kind", kind), ("tag", tag_slug)) if value}),
    }
    return _render(
        request, "communities/community_detail.html", context, indexable=community.visibility == Visibility.OPEN
    )


def _community_for_write(request: HttpRequest, slug: str) -> Community:
    return access_community(member=request_member(request), tenant=request_tenant(request), slug=slug)


@require_POST
@login_required
def community_join(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community_for_write(request, slug)
    try:
        membership = services.join_community(
            member=request_member(request), tenant=request_tenant(request), community=community
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if membership.status == CommunityMembershipStatus.ACTIVE:
            messages.success(request, f"You joined {community.name}.")
        else:
            messages.info(request, f"Your request to join {community.name} is waiting for a moderator.")
    return redirect("community-detail", slug=community.slug)


@require_POST
@login_required
def community_leave(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community_for_write(request, slug)
    try:
        services.leave_community(member=request_member(request), tenant=request_tenant(request), community=community)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, f"You left {community.name}.")
    return redirect("community-detail", slug=community.slug)


@require_POST
@login_required
def community_watch(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community_for_write(request, slug)
    form = WatchLevelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a notification level.")
        return redirect("community-detail", slug=community.slug)
    try:
        services.set_community_watch_level(
            member=request_member(request),
            tenant=request_tenant(request),
            community=community,
            level=form.cleaned_data["level"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your notification level for this community is saved.")
    return redirect("community-detail", slug=community.slug)
