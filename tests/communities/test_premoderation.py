"""Pre-moderation: a member's first posts in a community wait for a moderator. Until approved they are
invisible to everyone else: pages, API, feed, search, notifications and their emails."""

from __future__ import annotations

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from communities import moderation, services
from communities.emails import deliver_instant_emails
from communities.models import (
    ContentStatus,
    ModerationAction,
    ModerationActionKind,
    Notification,
    ReviewItem,
    ReviewStatus,
    Topic,
    TopicKind,
    Visibility,
    WatchLevel,
)
from communities.moderation import Decision, DecisionInput
from communities.selectors import review_queue, search_topics
from members.models import EmailNotifications
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, host_client, signed_in
from tests.factories import CommunityMembershipFactory

pytestmark = pytest.mark.django_db
HOST = TENANT_A["domain"]
API = "/api/v1"


@pytest.fixture
def world_fields():
    return {"visibility": Visibility.OPEN, "premoderated_posts": 2}


@pytest.fixture
def world(world):
    w = world
    # Bob wants every notification by email, and watches the whole community.
    w.bob.email_notifications = EmailNotifications.EACH
    w.bob.save()
    services.set_community_watch_level(member=w.bob, tenant=w.tenant, community=w.community, level=WatchLevel.WATCHING)
    return w


def new_topic(world, title="Hello from a newcomer", body="Flurbishly tired today"):
    return services.create_topic(
        acting_member=world.alice,
        tenant=world.tenant,
        community=world.community,
        kind=TopicKind.QUESTION,
        title=title,
        body=body,
    )


def approve(world, post):
    item = ReviewItem.objects.get(post=post, status=ReviewStatus.OPEN)
    moderation.decide(
        acting_member=world.moderator, tenant=world.tenant, item=item, choice=DecisionInput(decision=Decision.APPROVE)
    )


def test_first_posts_are_held_invisible_to_others_everywhere_until_approved(world):
    topic = new_topic(world)
    opening = topic.posts.get()
    assert (topic.status, opening.status) == (ContentStatus.HELD, ContentStatus.HELD)
    assert [item.post_id for item in review_queue(member=world.moderator, tenant=world.tenant)] == [opening.pk]
    assert review_queue(member=world.moderator, tenant=world.tenant, reason="held")[0].held
    # No notification was written for the watcher, and so no email can go out.
    assert not Notification.objects.filter(recipient=world.bob).exists()
    assert deliver_instant_emails(tenant=world.tenant) == 0 and mail.outbox == []
    assert search_topics(member=world.bob, tenant=world.tenant, query="flurbishly") == []
    assert search_topics(member=world.alice, tenant=world.tenant, query="flurbishly") != []

    use_public_schema()
    for client in (signed_in(HOST, world.bob), signed_in(HOST, world.carol)):
        assert client.get(f"/t/{topic.pk}/").status_code == 404
        assert client.get(f"{API}/topics/{topic.pk}/").status_code == 404
        assert "Hello from a newcomer" not in client.get(f"/c/{world.community.slug}/").content.decode()
        assert "Hello from a newcomer" not in client.get("/").content.decode()
        assert topic.pk not in [
            t["id"] for t in client.get(f"{API}/communities/{world.community.slug}/topics/").json()["results"]
        ]
        assert topic.pk not in [i["topic"]["id"] for i in client.get(f"{API}/feed/").json()["results"]]
        assert client.get(f"{API}/search/topics/?q=flurbishly").json() == []
    anonymous = host_client(HOST)
    assert anonymous.get(f"/t/{topic.pk}/").status_code == 404
    assert "Hello from a newcomer" not in anonymous.get("/").content.decode()
    author_page = signed_in(HOST, world.alice).get(f"/t/{topic.pk}/").content.decode()
    assert "Awaiting review." in author_page
    assert signed_in(HOST, world.alice).get(f"{API}/topics/{topic.pk}/").json()["status"] == "held"
    assert signed_in(HOST, world.moderator).get(f"/t/{topic.pk}/").status_code == 200

    with tenant_context(world.tenant):
        approve(world, opening)
        topic.refresh_from_db()
        assert topic.status == ContentStatus.PUBLISHED
        # Now the watcher hears of it, and gets the email.
        assert Notification.objects.filter(recipient=world.bob, post=opening).exists()
        assert deliver_instant_emails(tenant=world.tenant) == 1
        assert [t.pk for t in search_topics(member=world.bob, tenant=world.tenant, query="flurbishly")] == [topic.pk]
        assert Notification.objects.get(recipient=world.alice, post=opening).message.endswith("was approved")
    use_public_schema()
    assert signed_in(HOST, world.bob).get(f"/t/{topic.pk}/").status_code == 200


def test_held_reply_moves_no_counter_and_notifies_nobody_until_approved(world):
    world.community.premoderated_posts = 0
    world.community.save()
    topic = services.create_topic(
        acting_member=world.bob, tenant=world.tenant, community=world.community, kind=TopicKind.QUESTION,
        title="Which gloves?", body="Any tips?",
    )  # fmt: skip
    world.community.premoderated_posts = 2
    world.community.save()
    before = Topic.objects.get(pk=topic.pk).last_activity_at
    reply = services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Wool ones")
    assert reply.status == ContentStatus.HELD
    topic.refresh_from_db()
    assert (topic.reply_count, topic.last_activity_at) == (0, before)
    assert not Notification.objects.filter(post=reply).exists()
    approve(world, reply)
    topic.refresh_from_db()
    assert topic.reply_count == 1 and topic.last_activity_at > before
    assert Notification.objects.get(recipient=world.bob, post=reply).kind == "reply"


def test_after_n_approved_posts_a_member_posts_freely_and_moderators_never_wait(world):
    first = new_topic(world, title="First one")
    approve(world, first.posts.get())
    second = new_topic(world, title="Second one")
    assert second.status == ContentStatus.HELD
    approve(world, second.posts.get())
    third = new_topic(world, title="Third one")
    assert third.status == ContentStatus.PUBLISHED
    CommunityMembershipFactory(community=world.community, member=world.moderator)
    mine = services.create_topic(
        acting_member=world.moderator, tenant=world.tenant, community=world.community, kind=TopicKind.UPDATE,
        title="Welcome all", body="Hello",
    )  # fmt: skip
    assert mine.status == ContentStatus.PUBLISHED
    assert ModerationAction.objects.filter(kind=ModerationActionKind.POST_APPROVED).count() == 2


def test_count_is_configurable_per_community_web_and_api(world):
    use_public_schema()
    admin = signed_in(HOST, world.admin)
    response = admin.patch(
        f"{API}/communities/{world.community.slug}/", {"premoderated_posts": 0}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["premoderated_posts"] == 0
    bad = admin.patch(
        f"{API}/communities/{world.community.slug}/", {"premoderated_posts": -1}, content_type="application/json"
    )
    assert bad.status_code == 400
    with tenant_context(world.tenant):
        world.community.refresh_from_db()
        assert new_topic(world).status == ContentStatus.PUBLISHED
