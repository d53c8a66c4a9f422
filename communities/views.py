from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from communities.selectors import access_community, visible_communities
from members.selectors import membership_of


def tenant_home(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    context = {
        "communities": visible_communities(member=request.user, tenant=tenant),  # type: ignore[arg-type]
        "membership": membership_of(member=request.user, tenant=tenant),  # type: ignore[arg-type]
    }
    return render(request, "communities/tenant_home.html", context)


def community_detail(request: HttpRequest, slug: str) -> HttpResponse:
    community = access_community(member=request.user, tenant=request.tenant, slug=slug)  # type: ignore[arg-type, attr-defined]
    response = render(request, "communities/community_detail.html", {"community": community})
    return response
