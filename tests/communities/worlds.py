"""Helpers that grow the communities tests' ``world`` (tests/communities/conftest.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from communities import services
from communities.models import Community, Post, Topic, TopicKind, Visibility
from members.models import Member
from tests.factories import CommunityFactory, CommunityMembershipFactory, MemberFactory, TenantMembershipFactory


def start_topic(
    world: SimpleNamespace,
    *,
    title: str,
    body: str,
    member: Member | None = None,
    community: Community | None = None,
    kind: str = TopicKind.QUESTION,
    **fields: Any,
) -> Topic:
    """A topic started through the services (by Alice in the world's community unless told)."""
    return services.create_topic(
        acting_member=member or world.alice,
        tenant=world.tenant,
        community=community or world.community,
        kind=kind,
        title=title,
        body=body,
        **fields,
    )


def reply_to(world: SimpleNamespace, topic: Topic, *, body: str, member: Member | None = None) -> Post:
    """A reply through the services (by Bob unless told)."""
    return services.create_reply(acting_member=member or world.bob, tenant=world.tenant, topic=topic, body=body)


def open_community_joined_by_alice(world: SimpleNamespace, **fields: Any) -> Community:
    """A second community, open to everyone, that Alice has joined."""
    community = CommunityFactory.create(visibility=Visibility.OPEN, **fields)
    CommunityMembershipFactory(community=community, member=world.alice)
    return community


def community_member(world: SimpleNamespace, **fields: Any) -> Member:
    """One more member of the tenant and of the world's community."""
    member = MemberFactory.create(**fields)
    TenantMembershipFactory(member=member, tenant=world.tenant)
    CommunityMembershipFactory(community=world.community, member=member)
    return member
