"""Reactions (one of each kind per member per post, counters kept) and watch levels: idempotent."""

from __future__ import annotations

import pytest

from communities import services
from communities.models import (
    CommunitySubscription,
    Post,
    Reaction,
    ReactionKind,
    Topic,
    TopicSubscription,
    WatchLevel,
)
from communities.services import CommunityNotFound
from core.errors import InvalidInput, NotAllowed
from tests.communities.worlds import start_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world):
    w = world
    w.topic = start_topic(w, title="Sleep and steroids", body="How do you sleep?")
    w.post = Post.objects.get(topic=w.topic)
    return w


def counters(world):
    post = Post.objects.get(pk=world.post.pk)
    topic = Topic.objects.get(pk=world.topic.pk)
    return post.helpful_count, post.same_here_count, post.support_count, topic.reaction_count


class TestReactions:
    def test_react_is_idempotent_and_counted_once(self, world):
        assert services.react(member=world.bob, tenant=world.tenant, post=world.post, kind=ReactionKind.HELPFUL)
        assert not services.react(member=world.bob, tenant=world.tenant, post=world.post, kind=ReactionKind.HELPFUL)
        assert counters(world) == (1, 0, 0, 1)
        assert Reaction.objects.filter(post=world.post).count() == 1

    def test_one_of_each_kind(self, world):
        for kind in ReactionKind.values:
            services.react(member=world.bob, tenant=world.tenant, post=world.post, kind=kind)
        services.react(member=world.alice, tenant=world.tenant, post=world.post, kind=ReactionKind.SENDING_SUPPORT)
        assert counters(world) == (1, 1, 2, 4)

    def test_unreact_is_idempotent(self, world):
        services.react(member=world.bob, tenant=world.tenant, post=world.post, kind=ReactionKind.SAME_HERE)
        assert services.unreact(member=world.bob, tenant=world.tenant, post=world.post, kind=ReactionKind.SAME_HERE)
        assert not services.unreact(member=world.bob, tenant=world.tenant, post=world.post, kind=ReactionKind.SAME_HERE)
        assert counters(world) == (0, 0, 0, 0)
        assert not Reaction.objects.exists()

    def test_counters_use_database_values_not_stale_objects(self, world):
        stale = Post.objects.get(pk=world.post.pk)
        services.react(member=world.bob, tenant=world.tenant, post=world.post, kind=ReactionKind.HELPFUL)
        services.react(member=world.alice, tenant=world.tenant, post=stale, kind=ReactionKind.HELPFUL)
        assert counters(world) == (2, 0, 0, 2)

    @pytest.mark.parametrize("who", ["carol", "stranger"])
    def test_non_members_cannot_react(self, world, who):
        with pytest.raises(NotAllowed):
            services.react(member=getattr(world, who), tenant=world.tenant, post=world.post, kind=ReactionKind.HELPFUL)
        assert counters(world) == (0, 0, 0, 0) and not Reaction.objects.exists()

    def test_unknown_kind_and_removed_posts(self, world):
        with pytest.raises(InvalidInput):
            services.react(member=world.bob, tenant=world.tenant, post=world.post, kind="angry")
        services.delete_post(acting_member=world.alice, tenant=world.tenant, post=world.post)
        world.post.refresh_from_db()
        with pytest.raises(InvalidInput):
            services.react(member=world.bob, tenant=world.tenant, post=world.post, kind=ReactionKind.HELPFUL)
        assert counters(world) == (0, 0, 0, 0) and not Reaction.objects.exists()


class TestWatchLevels:
    def test_follow_and_mute_a_topic_idempotently(self, world):
        for _ in range(2):
            services.set_topic_watch_level(
                member=world.bob, tenant=world.tenant, topic=world.topic, level=WatchLevel.WATCHING
            )
        assert list(TopicSubscription.objects.filter(member=world.bob).values_list("level", flat=True)) == [
            WatchLevel.WATCHING
        ]
        services.set_topic_watch_level(member=world.bob, tenant=world.tenant, topic=world.topic, level=WatchLevel.MUTED)
        assert list(TopicSubscription.objects.filter(member=world.bob).values_list("level", flat=True)) == [
            WatchLevel.MUTED
        ]

    def test_follow_and_mute_a_community_idempotently(self, world):
        for level in (WatchLevel.TRACKING, WatchLevel.TRACKING, WatchLevel.MUTED, WatchLevel.MUTED):
            services.set_community_watch_level(
                member=world.bob, tenant=world.tenant, community=world.community, level=level
            )
        assert list(CommunitySubscription.objects.filter(member=world.bob).values_list("level", flat=True)) == [
            WatchLevel.MUTED
        ]

    def test_cannot_follow_what_you_cannot_read(self, world):
        with pytest.raises(CommunityNotFound):
            services.set_topic_watch_level(
                member=world.carol, tenant=world.tenant, topic=world.topic, level=WatchLevel.WATCHING
            )
        with pytest.raises(CommunityNotFound):
            services.set_community_watch_level(
                member=world.stranger, tenant=world.tenant, community=world.community, level=WatchLevel.WATCHING
            )
        with pytest.raises(InvalidInput):
            services.set_topic_watch_level(member=world.bob, tenant=world.tenant, topic=world.topic, level="loud")
        assert not TopicSubscription.objects.filter(member__in=[world.carol, world.bob]).exists()
        assert not CommunitySubscription.objects.exists()
