"""In-app notifications: who hears of what, never the actor, never twice, never a non-reader."""

from __future__ import annotations

import pytest

from communities import services
from communities.models import Notification, NotificationKind, Post, TopicKind, WatchLevel
from communities.notifications import notify_new_post
from communities.selectors import notifications_for, unread_count
from communities.wording import mentioned_names
from tests.communities.worlds import community_member, start_topic
from tests.factories import CommunityMembershipFactory, MemberFactory, TenantMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world):
    w = world
    w.dave = community_member(w, display_name="Dave Smith")
    w.topic = start_topic(w, title="Does anyone take methotrexate?", body="Side effects?")
    return w


def reply(world, member, body="Me too"):
    return services.create_reply(acting_member=member, tenant=world.tenant, topic=world.topic, body=body)


def inbox(member):
    return sorted(Notification.objects.filter(recipient=member).values_list("kind", "post_id"))


def test_reply_notifies_the_topic_author_not_the_replier(world):
    post = reply(world, world.bob)
    assert inbox(world.alice) == [(NotificationKind.REPLY, post.pk)]
    assert inbox(world.bob) == []
    note = Notification.objects.get(recipient=world.alice)
    assert (note.actor_id, note.topic_id, note.message) == (world.bob.pk, world.topic.pk, world.topic.title)


def test_own_reply_notifies_nobody(world):
    reply(world, world.alice)
    assert not Notification.objects.exists()


def test_muting_topic_or_community_silences_replies(world):
    services.set_topic_watch_level(member=world.alice, tenant=world.tenant, topic=world.topic, level=WatchLevel.MUTED)
    reply(world, world.bob)
    assert inbox(world.alice) == []
    services.set_topic_watch_level(member=world.alice, tenant=world.tenant, topic=world.topic, level=WatchLevel.NORMAL)
    services.set_community_watch_level(
        member=world.alice, tenant=world.tenant, community=world.community, level=WatchLevel.MUTED
    )
    reply(world, world.bob)
    assert inbox(world.alice) == []


def test_mentions_by_display_name_without_spaces_outside_code(world):
    post = reply(world, world.bob, body="Ask @davesmith and @CAROL. Not `@alice` nor\n\n    @admin in code\n\n@nobody")
    assert inbox(world.dave) == [(NotificationKind.MENTION, post.pk)]
    # Carol belongs to the tenant but cannot read this members-only community: no notification.
    assert inbox(world.carol) == []
    assert inbox(world.admin) == []
    # Alice is the topic author: one notification, the reply.
    assert inbox(world.alice) == [(NotificationKind.REPLY, post.pk)]


def test_mention_parser():
    assert mentioned_names("<p>hi @Jane_Doe, @bob. mail me@example.org <code>@x</code></p><pre>@y</pre>") == {
        "jane_doe",
        "bob",
    }
    assert mentioned_names("<p>merci @José!</p>") == {"josé"}


def test_mentions_in_open_community_reach_tenant_members_only(world, tenant_b):
    world.community.visibility = "open"
    world.community.save()
    elsewhere = MemberFactory(display_name="Eve")
    TenantMembershipFactory(member=elsewhere, tenant=tenant_b)
    post = reply(world, world.bob, body="@carol and @eve")
    assert inbox(world.carol) == [(NotificationKind.MENTION, post.pk)]
    assert inbox(elsewhere) == []


def test_watchers_of_topic_and_community(world):
    services.set_topic_watch_level(member=world.dave, tenant=world.tenant, topic=world.topic, level=WatchLevel.WATCHING)
    services.set_community_watch_level(
        member=world.moderator, tenant=world.tenant, community=world.community, level=WatchLevel.WATCHING
    )
    post = reply(world, world.bob)
    assert inbox(world.dave) == [(NotificationKind.WATCHED, post.pk)]
    # Members-only community: notices go to its active members only, moderators included.
    assert inbox(world.moderator) == []
    CommunityMembershipFactory(community=world.community, member=world.moderator)
    post = reply(world, world.bob, body="again")
    assert inbox(world.moderator) == [(NotificationKind.WATCHED, post.pk)]
    # The bob reply made bob track the topic; tracking is not every post.
    third = reply(world, world.dave, body="hello")
    assert inbox(world.bob) == []
    assert [kind for kind, _ in inbox(world.alice)] == [NotificationKind.REPLY] * 3
    assert third.pk in {post_id for _, post_id in inbox(world.alice)}


def test_new_topic_notifies_community_watchers_who_can_read(world):
    services.set_community_watch_level(
        member=world.bob, tenant=world.tenant, community=world.community, level=WatchLevel.WATCHING
    )
    topic = services.create_topic(
        acting_member=world.dave,
        tenant=world.tenant,
        community=world.community,
        kind=TopicKind.UPDATE,
        title="Good week",
        body="Feeling better",
    )
    opening = Post.objects.get(topic=topic)
    assert inbox(world.bob) == [(NotificationKind.WATCHED, opening.pk)]
    # Bob leaves: his community subscription goes, and he'd not be a reader anyway.
    services.leave_community(member=world.bob, tenant=world.tenant, community=world.community)
    services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Great")
    assert inbox(world.bob) == [(NotificationKind.WATCHED, opening.pk)]


def test_watching_topic_is_dropped_for_someone_who_lost_access(world):
    services.set_topic_watch_level(member=world.dave, tenant=world.tenant, topic=world.topic, level=WatchLevel.WATCHING)
    services.leave_community(member=world.dave, tenant=world.tenant, community=world.community)
    reply(world, world.bob)
    assert inbox(world.dave) == []


def test_one_notification_per_recipient_post_and_kind(world):
    post = reply(world, world.bob)
    notify_new_post(tenant=world.tenant, post=post)
    assert Notification.objects.filter(recipient=world.alice).count() == 1


def test_answer_notifies_followers_and_the_answerer(world):
    services.set_topic_watch_level(member=world.dave, tenant=world.tenant, topic=world.topic, level=WatchLevel.TRACKING)
    answer = reply(world, world.bob, body="Folic acid helps")
    Notification.objects.all().delete()
    services.mark_answer(acting_member=world.alice, tenant=world.tenant, topic=world.topic, post=answer)
    assert inbox(world.dave) == [(NotificationKind.ANSWER, answer.pk)]
    assert inbox(world.bob) == [(NotificationKind.ANSWER, answer.pk)]
    assert inbox(world.alice) == []


def test_moderation_notifies_the_author_only_when_someone_else_acts(world):
    mine = reply(world, world.bob, body="first")
    services.delete_post(acting_member=world.bob, tenant=world.tenant, post=mine)
    assert inbox(world.bob) == []
    other = reply(world, world.bob, body="second")
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=other)
    assert inbox(world.bob) == [(NotificationKind.MODERATION, other.pk)]
    assert "removed" in Notification.objects.get(recipient=world.bob).message
    services.restore_post(acting_member=world.moderator, tenant=world.tenant, post=other)
    assert inbox(world.bob) == [(NotificationKind.MODERATION, other.pk)]
    assert "restored" in Notification.objects.get(recipient=world.bob).message


def test_inbox_unread_count_and_mark_read(world):
    first = reply(world, world.bob, body="one")
    second = reply(world, world.dave, body="two")
    assert unread_count(member=world.alice) == 2
    assert [n.post_id for n in notifications_for(member=world.alice)] == [second.pk, first.pk]
    one = Notification.objects.get(recipient=world.alice, post=first)
    assert services.mark_notifications_read(member=world.alice, notification_ids=[one.pk]) == 1
    assert [n.post_id for n in notifications_for(member=world.alice, unread_only=True)] == [second.pk]
    # Someone else's ids change nothing.
    assert services.mark_notifications_read(member=world.bob, notification_ids=[one.pk]) == 0
    assert services.mark_notifications_read(member=world.alice) == 1
    assert unread_count(member=world.alice) == 0
