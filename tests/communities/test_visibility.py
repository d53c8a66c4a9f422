"""Who reads what: members-only content is invisible to non-members, other tenants and anonymous
visitors; lists and threads use a number of queries independent of their length."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from communities import services
from communities.models import Post, TagKind, Topic, TopicKind
from communities.permissions import can_read_community
from communities.selectors import access_topic, community_topics, search_topics, shown_tags, topic_posts
from communities.wording import REMOVED_HTML
from core.errors import InvalidInput
from tests.communities.worlds import open_community_joined_by_alice, start_topic
from tests.factories import (
    MemberFactory,
    PostFactory,
    TagFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world):
    w = world
    w.open_community = open_community_joined_by_alice(w)
    w.secret = start_topic(w, title="Private worry about flares", body="Only for members")
    w.public = start_topic(
        w, title="Public walk about flares", body="Everyone may read", community=w.open_community, kind=TopicKind.UPDATE
    )
    return w


READERS = {"alice": True, "bob": True, "moderator": True, "admin": True, "carol": False, "stranger": False}


@pytest.mark.parametrize(("who", "reads"), READERS.items())
def test_members_only_permission_matrix(world, who, reads):
    member = getattr(world, who)
    assert can_read_community(member=member, tenant=world.tenant, community=world.community) is reads
    assert can_read_community(member=member, tenant=world.tenant, community=world.open_community) is True
    if reads:
        assert access_topic(member=member, tenant=world.tenant, topic_id=world.secret.pk) == world.secret
        assert community_topics(member=member, tenant=world.tenant, community=world.community).items == [world.secret]
    else:
        with pytest.raises(Http404):
            access_topic(member=member, tenant=world.tenant, topic_id=world.secret.pk)
        with pytest.raises(Http404):
            community_topics(member=member, tenant=world.tenant, community=world.community)
        with pytest.raises(Http404):
            topic_posts(member=member, tenant=world.tenant, topic=world.secret)
    found = search_topics(member=member, tenant=world.tenant, query="flares")
    assert found == ([world.public, world.secret] if reads else [world.public])


def test_anonymous_and_superuser(world):
    anonymous = AnonymousUser()
    assert not can_read_community(member=anonymous, tenant=world.tenant, community=world.community)
    with pytest.raises(Http404):
        access_topic(member=anonymous, tenant=world.tenant, topic_id=world.secret.pk)
    assert access_topic(member=anonymous, tenant=world.tenant, topic_id=world.public.pk) == world.public
    assert search_topics(member=anonymous, tenant=world.tenant, query="flares") == [world.public]
    root = MemberFactory(is_superuser=True, is_staff=True)
    assert access_topic(member=root, tenant=world.tenant, topic_id=world.secret.pk) == world.secret


def test_missing_and_removed_topics_are_404_alike(world):
    with pytest.raises(Http404):
        access_topic(member=world.alice, tenant=world.tenant, topic_id=987654321)
    Topic.objects.filter(pk=world.public.pk).update(deleted_at=world.public.created_at)
    with pytest.raises(Http404):
        access_topic(member=world.alice, tenant=world.tenant, topic_id=world.public.pk)


def test_other_tenant_cannot_see_topic_ids(world, tenant_b):
    with tenant_context(tenant_b):
        for member in (world.alice, AnonymousUser()):
            with pytest.raises(Http404):
                access_topic(member=member, tenant=tenant_b, topic_id=world.public.pk)
            with pytest.raises(Http404):
                access_topic(member=member, tenant=tenant_b, topic_id=world.secret.pk)
            assert search_topics(member=member, tenant=tenant_b, query="flares") == []


def test_search_by_body_tag_and_kind(world):
    tag = TagFactory(community=world.community, kind=TagKind.TREATMENT, name="Hydroxychloroquine", slug="hcq")
    world.secret.tags.add(tag)
    assert search_topics(member=world.bob, tenant=world.tenant, query="only for MEMBERS") == [world.secret]
    assert search_topics(member=world.bob, tenant=world.tenant, query="hydroxy", tag_kind=TagKind.TREATMENT) == [
        world.secret
    ]
    assert search_topics(member=world.bob, tenant=world.tenant, query="hydroxy", tag_kind=TagKind.SYMPTOM) == []
    assert search_topics(member=world.bob, tenant=world.tenant, query="flares", kind=TopicKind.UPDATE) == [world.public]
    assert search_topics(member=world.bob, tenant=world.tenant, query="   ") == []


def test_removed_reply_text_only_for_moderators(world):
    reply = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=world.secret, body="oops")
    services.delete_post(acting_member=world.bob, tenant=world.tenant, post=reply)
    as_alice = topic_posts(member=world.alice, tenant=world.tenant, topic=world.secret)
    assert [(v.body_html, v.is_removed) for v in as_alice] == [("<p>Only for members</p>", False), (REMOVED_HTML, True)]
    as_moderator = topic_posts(member=world.moderator, tenant=world.tenant, topic=world.secret)
    assert [(v.body_html, v.is_removed) for v in as_moderator] == [
        ("<p>Only for members</p>", False),
        ("<p>oops</p>", True),
    ]


def test_community_topics_filters_and_cursor(world):
    fatigue = TagFactory(community=world.community, name="Fatigue", slug="fatigue")
    topics = [TopicFactory(community=world.community, author=world.bob) for _ in range(7)]
    topics[2].tags.add(fatigue)
    seen, cursor = [], None
    while True:
        page = community_topics(
            member=world.bob, tenant=world.tenant, community=world.community, cursor=cursor, limit=3
        )
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted([world.secret, *topics], key=lambda t: (t.last_activity_at, t.pk), reverse=True)
    assert seen == expected
    assert community_topics(
        member=world.bob, tenant=world.tenant, community=world.community, tag_slug="fatigue"
    ).items == [topics[2]]
    assert community_topics(
        member=world.bob, tenant=world.tenant, community=world.community, kind=TopicKind.QUESTION
    ).items == [world.secret]
    with pytest.raises(InvalidInput) as refused:
        community_topics(member=world.bob, tenant=world.tenant, community=world.community, cursor="%%%", limit=2)
    assert list(refused.value.details) == ["cursor"]


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def test_topic_posts_queries_do_not_grow_with_replies(world):
    def read():
        views = topic_posts(member=world.bob, tenant=world.tenant, topic=world.secret)
        return [(v.post.author.display_name if v.post.author else "", v.body_html) for v in views]

    few = _count(read)
    for _ in range(25):
        PostFactory(topic=world.secret, author=MemberFactory())
    many = _count(read)
    assert len(topic_posts(member=world.bob, tenant=world.tenant, topic=world.secret)) == 26
    assert many == few and many <= 6


def test_community_topics_queries_do_not_grow_with_topics(world):
    tag = TagFactory(community=world.community)

    def read():
        page = community_topics(member=world.bob, tenant=world.tenant, community=world.community, limit=30)
        return [(t.author.display_name if t.author else "", [x.name for x in shown_tags(t)]) for t in page.items]

    few = _count(read)
    for _ in range(20):
        TopicFactory(community=world.community, author=MemberFactory()).tags.add(tag)
    many = _count(read)
    assert many == few and many <= 6
    assert Post.objects.count() >= 2
