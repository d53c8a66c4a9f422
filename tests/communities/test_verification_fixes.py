"""Fixes found by verifying what exists (issue 10): the moderation log is append-only in the database,
reasons and decisions reach the member, opening a notification reads it, quotes are not "your topic",
and proposed tags wait for a moderator."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django_tenants.utils import tenant_context

from communities import services
from communities.models import (
    JoiningPolicy,
    ModerationAction,
    Notification,
    NotificationKind,
    TagKind,
    TagStatus,
    TopicKind,
)
from communities.selectors import community_topics, search_topics, shown_tags
from tenants.db import use_public_schema
from tests.communities.worlds import reply_to, start_topic
from tests.conftest import TENANT_A, host_client, signed_in
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db
HOST = TENANT_A["domain"]


@pytest.fixture
def world(world):
    w = world
    w.topic = start_topic(w, title="Rashes after sun?", body="Anyone else?")
    w.reply = reply_to(w, w.topic, body="Yes, me too")
    return w


# --- the moderation log refuses raw UPDATE, DELETE and TRUNCATE ------------------------------------


def _raw(sql: str, params: list[int] | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # The test's transaction holds deferred foreign-key checks, which TRUNCATE would trip over
        # before our trigger is asked; running them now lets the trigger give its answer.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql, params or [])


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE communities_moderationaction SET reason = 'rewritten'",
        "UPDATE communities_moderationaction SET summary = 'nothing happened', actor_id = NULL",
        "UPDATE communities_moderationaction SET created_at = now() - interval '1 year'",
        "DELETE FROM communities_moderationaction",
        "TRUNCATE communities_moderationaction",
        "TRUNCATE communities_moderationaction CASCADE",
    ],
)
def test_database_refuses_to_rewrite_or_delete_the_log(world, sql):
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=world.reply, reason="Spam link")
    before = list(ModerationAction.objects.values_list("id", "kind", "reason", "summary", "actor_id", "created_at"))
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql)
    after = list(ModerationAction.objects.values_list("id", "kind", "reason", "summary", "actor_id", "created_at"))
    assert after == before and len(after) == 1


def test_database_allows_only_detaching_a_member(world):
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=world.reply, reason="Spam link")
    # What erasure does: the decision stays, the people's references go.
    _raw("UPDATE communities_moderationaction SET actor_id = NULL, subject_id = NULL")
    action = ModerationAction.objects.get()
    assert (action.actor_id, action.subject_id, action.reason) == (None, None, "Spam link")
    # Pointing it at someone else is a rewrite, not a detachment.
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE communities_moderationaction SET subject_id = %s", [world.carol.pk])


# --- reasons and decisions reach the member --------------------------------------------------------


def test_removal_reason_reaches_the_author(world):
    services.delete_post(
        acting_member=world.moderator, tenant=world.tenant, post=world.reply, reason="Please  keep it kind"
    )
    note = Notification.objects.get(recipient=world.bob)
    assert note.kind == NotificationKind.MODERATION
    assert note.message == "A moderator removed your post in “Rashes after sun?”. Reason: Please keep it kind"
    use_public_schema()
    page = signed_in(HOST, world.bob).get("/notifications/").content.decode()
    assert "Reason: Please keep it kind" in page


def test_join_decisions_notify_the_member(world):
    world.community.joining_policy = JoiningPolicy.APPROVAL
    world.community.save()
    with tenant_context(world.tenant):
        request = services.join_community(member=world.carol, tenant=world.tenant, community=world.community)
        services.decide_join_request(
            acting_member=world.moderator, tenant=world.tenant, membership=request, approve=True
        )
        approved = Notification.objects.get(recipient=world.carol)
        assert approved.kind == NotificationKind.MODERATION and approved.community_id == world.community.pk
        assert approved.message == f"Your request to join {world.community.name} was approved. Welcome!"
        services.leave_community(member=world.carol, tenant=world.tenant, community=world.community)
        request = services.join_community(member=world.carol, tenant=world.tenant, community=world.community)
        services.decide_join_request(
            acting_member=world.moderator,
            tenant=world.tenant,
            membership=request,
            approve=False,
            reason="Patients only",
        )
        refused = Notification.objects.filter(recipient=world.carol).order_by("-id").first()
        assert refused.message == f"Your request to join {world.community.name} was not approved. Reason: Patients only"
    use_public_schema()
    client = signed_in(HOST, world.carol)
    response = client.get(f"/notifications/{approved.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/c/{world.community.slug}/"


def test_opening_a_notification_marks_it_read(world):
    with tenant_context(world.tenant):
        note = Notification.objects.get(recipient=world.alice)
        other = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=world.topic, body="Again")
        second = Notification.objects.get(recipient=world.alice, post=other)
    use_public_schema()
    alice = signed_in(HOST, world.alice)
    assert "2 unread" in alice.get("/notifications/").content.decode()
    response = alice.get(f"/notifications/{note.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/t/{world.topic.pk}/#post-{world.reply.pk}"
    with tenant_context(world.tenant):
        note.refresh_from_db()
        second.refresh_from_db()
        assert note.read_at is not None and second.read_at is None
    assert "1 unread" in alice.get("/notifications/").content.decode()
    # Someone else's notification: 404, and it stays unread.
    assert signed_in(HOST, world.bob).get(f"/notifications/{second.pk}/").status_code == 404
    assert host_client(HOST).get(f"/notifications/{second.pk}/").status_code == 302  # sign in first
    with tenant_context(world.tenant):
        second.refresh_from_db()
        assert second.read_at is None


def test_quoting_someone_in_another_members_topic_is_not_reply_to_your_topic(world):
    with tenant_context(world.tenant):
        quote = services.create_reply(
            acting_member=world.alice,
            tenant=world.tenant,
            topic=world.topic,
            body="Same",
            quoted_post=world.reply,
        )
        # Bob wrote the quoted reply in Alice's topic: he hears of a quote, not of a reply to "his topic".
        kinds = dict(Notification.objects.filter(post=quote).values_list("recipient_id", "kind"))
        assert kinds == {world.bob.pk: NotificationKind.QUOTE}
        assert Notification.objects.get(post=quote).get_kind_display() == "Reply quoting your post"
        # A quote of the topic author's own post in their topic is still a reply to their topic.
        opening = world.topic.posts.get(is_opening=True)
        again = services.create_reply(
            acting_member=world.bob, tenant=world.tenant, topic=world.topic, body="Also", quoted_post=opening
        )
        assert dict(Notification.objects.filter(post=again).values_list("recipient_id", "kind")) == {
            world.alice.pk: NotificationKind.REPLY
        }


# --- proposed tags wait for a moderator ------------------------------------------------------------


def test_proposed_tags_are_not_public_until_curated(world):
    with tenant_context(world.tenant):
        curated = TagFactory(community=world.community, kind=TagKind.TOPIC, name="Sun", slug="sun")
        topic = services.create_topic(
            acting_member=world.alice,
            tenant=world.tenant,
            community=world.community,
            kind=TopicKind.UPDATE,
            title="Beach day",
            body="Covered up all day",
            tag_ids=[curated.pk],
            proposed_tag_names=["Zebrafruit"],
        )
        proposed = topic.tags.get(status=TagStatus.PROPOSED)
        listed = community_topics(member=world.bob, tenant=world.tenant, community=world.community).items
        shown = next(t for t in listed if t.pk == topic.pk)
        assert [tag.name for tag in shown_tags(shown)] == ["Sun"]
        assert search_topics(member=world.bob, tenant=world.tenant, query="zebrafruit") == []
    use_public_schema()
    bob = signed_in(HOST, world.bob)
    assert "Zebrafruit" not in bob.get(f"/t/{topic.pk}/").content.decode()
    community_page = bob.get(f"/c/{world.community.slug}/").content.decode()
    assert "Zebrafruit" not in community_page
    assert '<span class="tag">Sun</span>' in community_page  # the topic row shows its curated tag
    api_list = bob.get(f"/api/v1/communities/{world.community.slug}/topics/").json()["results"]
    assert [tag["name"] for row in api_list if row["id"] == topic.pk for tag in row["tags"]] == ["Sun"]
    api_topic = bob.get(f"/api/v1/topics/{topic.pk}/").json()
    assert [tag["name"] for tag in api_topic["tags"]] == ["Sun"]
    api_tags = [tag["name"] for tag in bob.get(f"/api/v1/communities/{world.community.slug}/tags/").json()]
    assert "Zebrafruit" not in api_tags and "Sun" in api_tags
    # The proposer sees what they proposed among the community's tags (pending), and so do moderators.
    assert "Zebrafruit" in [
        t["name"] for t in signed_in(HOST, world.alice).get(f"/api/v1/communities/{world.community.slug}/tags/").json()
    ]
    # Once a moderator curates it, it is public and findable.
    with tenant_context(world.tenant):
        services.create_tag(
            acting_member=world.moderator,
            tenant=world.tenant,
            community=world.community,
            kind=TagKind.TOPIC,
            name="Zebrafruit",
        )
        assert [t.pk for t in search_topics(member=world.bob, tenant=world.tenant, query="zebrafruit")] == [topic.pk]
        proposed.refresh_from_db()
        assert proposed.status == TagStatus.CURATED
    use_public_schema()
    assert "Zebrafruit" in bob.get(f"/t/{topic.pk}/").content.decode()
