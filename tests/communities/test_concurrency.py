"""Real concurrent transactions: counters and the posting limit hold when requests race.

These commit (each thread has its own connection), so they clean up after themselves: the
community is deleted (cascading to its rows) and the committed members are erased by the fixture.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from communities import services
from communities.models import Post, Reaction, ReactionKind, Topic, TopicKind
from tests.conftest import COMMITTED_EMAIL_DOMAIN
from tests.factories import (
    CommunityFactory,
    CommunityMembershipFactory,
    MemberFactory,
    PostFactory,
    TenantMembershipFactory,
    TopicFactory,
)

pytestmark = pytest.mark.integration


def race(tenant, calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls at the same moment, each in its own thread, connection and tenant context."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            with tenant_context(tenant):
                barrier.wait(timeout=10)
                results[index] = call()
        except Exception as error:  # the outcome is what the test inspects
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def place(committed_db, tenant_a):
    tag = uuid.uuid4().hex[:8]
    with tenant_context(tenant_a):
        community = CommunityFactory(slug=f"race-{tag}")
        members = [MemberFactory(email=f"race-{tag}-{i}@{COMMITTED_EMAIL_DOMAIN}") for i in range(5)]
        for member in members:
            TenantMembershipFactory(member=member, tenant=tenant_a)
            CommunityMembershipFactory(community=community, member=member)
        topic = TopicFactory(community=community, author=members[0], kind=TopicKind.QUESTION)
        post = PostFactory(topic=topic, author=members[0], is_opening=True)
    try:
        yield tenant_a, community, members, topic, post
    finally:
        with tenant_context(tenant_a):
            community.delete()


def test_racing_reactions_count_once_each(place):
    tenant, _, members, topic, post = place

    def react(member):
        return lambda: services.react(
            member=member, tenant=tenant, post=Post.objects.get(pk=post.pk), kind=ReactionKind.HELPFUL
        )

    results = race(tenant, [react(members[1])] * 6 + [react(m) for m in members[2:]])
    assert results.count(True) == 4 and results.count(False) == 5
    with tenant_context(tenant):
        assert Reaction.objects.filter(post_id=post.pk).count() == 4
        assert Post.objects.get(pk=post.pk).helpful_count == 4
        assert Topic.objects.get(pk=topic.pk).reaction_count == 4


def test_racing_posts_respect_the_limit(place, settings):
    settings.KINDRED_POSTING_RATE = "3/10m"
    tenant, _, members, topic, _ = place

    def reply(number):
        return lambda: services.create_reply(
            acting_member=members[1], tenant=tenant, topic=Topic.objects.get(pk=topic.pk), body=f"reply {number}"
        )

    results = race(tenant, [reply(n) for n in range(6)])
    assert sum(isinstance(r, Post) for r in results) == 3
    assert sum(isinstance(r, services.PostingRateLimited) for r in results) == 3
    with tenant_context(tenant):
        assert Topic.objects.get(pk=topic.pk).reply_count == 3
