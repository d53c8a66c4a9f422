"""Posting is rate limited per member per tenant; topics and replies both count."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from communities import services
from communities.models import CommunityMembership, Post, Topic, TopicKind
from communities.services import PostingRateLimited, parse_rate
from tests.factories import TenantMembershipFactory, community_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def posting_rate():
    return "3/10m"


def post_topic(world, member, title="A question here"):
    return services.create_topic(
        acting_member=member,
        tenant=world.tenant,
        community=world.community,
        kind=TopicKind.QUESTION,
        title=title,
        body="body",
    )


def test_parse_rate():
    assert parse_rate("10/10m") == (10, datetime.timedelta(minutes=10))
    assert parse_rate("5/h") == (5, datetime.timedelta(hours=1))
    assert parse_rate(" 2 / 30s ") == (2, datetime.timedelta(seconds=30))
    with pytest.raises(ValueError):
        parse_rate("lots")


def test_topics_and_replies_share_the_limit(world):
    topic = post_topic(world, world.alice)
    services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="one")
    services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="two")
    with pytest.raises(PostingRateLimited) as error:
        services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="three")
    assert (error.value.code, error.value.http_status) == ("posting_rate_limited", 429)
    assert "at most 3 posts in 10 minutes" in error.value.message
    assert "You can post again in" in error.value.message
    assert 0 < error.value.details["retry_after_seconds"] <= 600
    with pytest.raises(PostingRateLimited):
        post_topic(world, world.alice, title="Another one")
    # Refused posts change nothing.
    assert Post.objects.filter(author=world.alice).count() == 3
    assert Topic.objects.count() == 1 and Topic.objects.get().reply_count == 2
    # Someone else is not limited by Alice's posting.
    services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="bob")


def test_window_slides(world):
    for number in range(3):
        post_topic(world, world.alice, title=f"Topic number {number}")
    Post.objects.filter(author=world.alice).update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    post_topic(world, world.alice, title="After the window")
    assert Topic.objects.count() == 4


def test_limit_is_per_tenant(world, tenant_b):
    for number in range(3):
        post_topic(world, world.alice, title=f"Topic number {number}")
    with tenant_context(tenant_b):
        other = community_world(tenant=tenant_b)
        services.create_topic(
            acting_member=other.alice,
            tenant=tenant_b,
            community=other.community,
            kind=TopicKind.UPDATE,
            title="Different tenant",
            body="fine",
        )
        TenantMembershipFactory(member=world.alice, tenant=tenant_b)
        CommunityMembership.objects.create(community=other.community, member=world.alice)
        services.create_topic(
            acting_member=world.alice,
            tenant=tenant_b,
            community=other.community,
            kind=TopicKind.UPDATE,
            title="Alice elsewhere",
            body="her limit in B is her own",
        )
        assert Topic.objects.count() == 2
