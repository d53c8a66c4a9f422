"""Reads for communities (tenant schema)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from communities.models import Community, Visibility
from members.models import Member
from members.selectors import membership_of
from tenants.models import Tenant


def visible_communities(*, member: Member, tenant: Tenant) -> QuerySet[Community]:
    """Open communities for everyone; members-only ones for people who joined this tenant."""
    communities = Community.objects.order_by("name")
    if membership_of(member=member, tenant=tenant) is None and not (member.is_authenticated and member.is_superuser):
        communities = communities.filter(visibility=Visibility.OPEN)
    return communities


def access_community(*, member: Member, tenant: Tenant, slug: str) -> Community:
    """The community if this member may read it; 404 alike for missing and forbidden."""
    community = visible_communities(member=member, tenant=tenant).filter(slug=slug).first()
    if community is None:
        raise Http404("No such community.")
    return community
