"""The personalized feed: what is a candidate, what never shows, score order and stable paging."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from communities import services
from communities.feed import anonymous_feed, feed_for, score_topic
from communities.models import Topic, TopicKind, Visibility, WatchLevel
from communities.selectors import shown_tags
from conditions.models import Condition
from core.errors import InvalidInput
from tests.factories import CommunityFactory, CommunityMembershipFactory, MemberFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world):
    w = world  # members-only, alice and bob joined
    lupus = Condition.objects.create(mesh_id="TST0001", name="Test lupus", slug="test-lupus-feed")
    nephritis = Condition.objects.create(
        mesh_id="TST0002", name="Test nephritis", slug="test-nephritis-feed", parent=lupus
    )
    w.alice.conditions.add(lupus)
    # Open, about a descendant of Alice's condition: relevant though she never joined.
    w.open_match = CommunityFactory(visibility=Visibility.OPEN)
    w.open_match.conditions.add(nephritis)
    # Members-only, about her condition, not joined: unreadable, never in her feed.
    w.closed_match = CommunityFactory(visibility=Visibility.MEMBERS_ONLY)
    w.closed_match.conditions.add(lupus)
    # Joined, then muted.
    w.muted = CommunityFactory()
    CommunityMembershipFactory(community=w.muted, member=w.alice)
    services.set_community_watch_level(member=w.alice, tenant=w.tenant, community=w.muted, level=WatchLevel.MUTED)
    # Open, unrelated to Alice.
    w.unrelated = CommunityFactory(visibility=Visibility.OPEN)
    return w


def topic_in(community, **fields):
    return TopicFactory(community=community, **fields)


def all_pages(fetch, limit):
    items, cursor, pages = [], None, 0
    while True:
        page = fetch(cursor=cursor, limit=limit)
        items += page.items
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return items, pages


def test_candidates_and_exclusions(world):
    mine = topic_in(world.community)
    by_condition = topic_in(world.open_match)
    hidden = topic_in(world.closed_match)
    muted_community = topic_in(world.muted)
    unrelated = topic_in(world.unrelated)
    followed = topic_in(world.unrelated)
    services.set_topic_watch_level(member=world.alice, tenant=world.tenant, topic=followed, level=WatchLevel.TRACKING)
    muted_topic = topic_in(world.community)
    services.set_topic_watch_level(member=world.alice, tenant=world.tenant, topic=muted_topic, level=WatchLevel.MUTED)
    removed = topic_in(world.community, deleted_at=timezone.now())
    old = topic_in(world.community)
    Topic.objects.filter(pk=old.pk).update(last_activity_at=timezone.now() - datetime.timedelta(days=90))

    page = feed_for(member=world.alice, tenant=world.tenant, limit=50)
    shown = {item.topic.pk for item in page.items}
    assert shown == {mine.pk, by_condition.pk, followed.pk}
    for never in (hidden, muted_community, unrelated, muted_topic, removed, old):
        assert never.pk not in shown
    reasons = {item.topic.pk: item.reasons for item in page.items}
    assert reasons[by_condition.pk] == ("condition",)
    assert reasons[followed.pk] == ("followed",)
    assert page.next_cursor is None


def test_never_shows_unreadable_even_if_followed(world):
    secret = topic_in(world.community)
    services.set_topic_watch_level(member=world.alice, tenant=world.tenant, topic=secret, level=WatchLevel.WATCHING)
    services.leave_community(member=world.alice, tenant=world.tenant, community=world.community)
    assert feed_for(member=world.alice, tenant=world.tenant).items == []


def test_order_follows_the_documented_score(world):
    now = timezone.now()
    fresh = topic_in(world.community, kind=TopicKind.UPDATE)
    busy = topic_in(world.community, kind=TopicKind.UPDATE, reply_count=12, reaction_count=30)
    unanswered = topic_in(world.community, kind=TopicKind.QUESTION)
    stale = topic_in(world.community, kind=TopicKind.UPDATE)
    Topic.objects.filter(pk=stale.pk).update(last_activity_at=now - datetime.timedelta(days=10))
    Topic.objects.filter(pk=busy.pk).update(last_activity_at=now - datetime.timedelta(days=2))
    items = feed_for(member=world.alice, tenant=world.tenant).items
    assert [item.topic.pk for item in items] == [busy.pk, unanswered.pk, fresh.pk, stale.pk]
    scores = [item.score for item in items]
    assert scores == sorted(scores, reverse=True)
    busy_item = items[0]
    assert (
        busy_item.score == score_topic(topic=busy_item.topic, now=now)
        or abs(busy_item.score - score_topic(topic=busy_item.topic, now=now)) < 1e-3
    )
    assert "unanswered" in items[1].reasons


def test_pages_never_repeat_or_skip_even_with_ties(world):
    stamp = timezone.now() - datetime.timedelta(hours=1)
    topics = [topic_in(world.community) for _ in range(23)]
    Topic.objects.filter(pk__in=[t.pk for t in topics]).update(last_activity_at=stamp)
    items, pages = all_pages(lambda **kw: feed_for(member=world.alice, tenant=world.tenant, **kw), limit=5)
    ids = [item.topic.pk for item in items]
    assert pages == 5 and len(ids) == len(set(ids)) == 23
    assert ids == sorted(ids, reverse=True)  # all scores tie: newest id first


def test_garbage_cursor_is_refused_not_restarted(world):
    topic_in(world.community)
    for cursor in ["not-a-cursor", base64.urlsafe_b64encode(b"[1, 2, 1e300]").decode(), "W10"]:
        with pytest.raises(InvalidInput) as refused:
            feed_for(member=world.alice, tenant=world.tenant, cursor=cursor)
        assert list(refused.value.details) == ["cursor"]


def test_anonymous_feed_shows_open_communities_only(world):
    topic_in(world.community)
    topic_in(world.closed_match)
    visible = [topic_in(world.open_match), topic_in(world.unrelated)]
    for fetch in (
        lambda **kw: anonymous_feed(tenant=world.tenant, **kw),
        lambda **kw: feed_for(member=AnonymousUser(), tenant=world.tenant, **kw),
    ):
        items, _ = all_pages(fetch, limit=1)
        assert sorted(item.topic.pk for item in items) == sorted(t.pk for t in visible)


def test_other_tenant_feed_is_separate(world, tenant_b):
    topic_in(world.open_match)
    with tenant_context(tenant_b):
        assert anonymous_feed(tenant=tenant_b).items == []
        assert feed_for(member=world.alice, tenant=tenant_b).items == []


def test_feed_queries_do_not_grow_with_topics(world):
    def read():
        page = feed_for(member=world.alice, tenant=world.tenant, limit=50)
        return [(i.topic.author.display_name, i.topic.community.name, shown_tags(i.topic)) for i in page.items]

    topic_in(world.community, author=MemberFactory())
    with CaptureQueriesContext(connection) as few:
        read()
    for _ in range(15):
        topic_in(world.community, author=MemberFactory())
        topic_in(world.open_match, author=MemberFactory())
    with CaptureQueriesContext(connection) as many:
        read()
    assert len(many.captured_queries) == len(few.captured_queries) <= 12
