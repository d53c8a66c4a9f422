"""Names per tenant: every page, API row, mention, quote and email uses the name the member chose
for that tenant; the same person stays unlinkable across tenants."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from communities import services
from communities.emails import deliver_instant_emails
from communities.models import Notification, NotificationKind, TopicKind, Visibility
from members.models import TenantMembership
from tests.conftest import TENANT_A, TENANT_B, signed_in
from tests.factories import CommunityMembershipFactory, MemberFactory, TenantMembershipFactory, community_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _generous_rate(settings):
    settings.KINDRED_POSTING_RATE = "1000/1m"


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, visibility=Visibility.OPEN)
    TenantMembership.objects.filter(member=world.alice, tenant=tenant_a).update(display_name="river_walker")
    world.topic = None
    with tenant_context(tenant_a):
        world.topic = services.create_topic(
            acting_member=world.alice, tenant=tenant_a, community=world.community, kind=TopicKind.QUESTION,
            title="Morning stiffness", body="Anyone else?",
        )  # fmt: skip
    return world


def test_pages_show_the_name_chosen_for_this_tenant_only(world, tenant_a, tenant_b):
    alice = world.alice
    TenantMembershipFactory(member=alice, tenant=tenant_b, display_name="Anna K.")
    with tenant_context(tenant_a):
        services.create_reply(acting_member=world.bob, tenant=tenant_a, topic=world.topic, body="Yes, me too")
    client = signed_in(TENANT_A["domain"], world.bob)
    for url in (f"/t/{world.topic.pk}/", f"/c/{world.community.slug}/", "/", "/search/?q=stiffness"):
        page = client.get(url).content.decode()
        assert "river_walker" in page, url
        assert "Alice" not in page.replace("alice", ""), url  # her platform name never shows here
        assert "Anna K." not in page, url
    api = client.get(f"/api/v1/topics/{world.topic.pk}/").json()
    assert api["author"]["display_name"] == "river_walker"
    assert [p["author"]["display_name"] for p in api["posts"]] == ["river_walker", "Bob"]
    listing = client.get(f"/api/v1/communities/{world.community.slug}/topics/").json()["results"]
    assert listing[0]["author"]["display_name"] == "river_walker"
    # The moderators' member list shows the name here too.
    members = signed_in(TENANT_A["domain"], world.admin).get("/api/v1/members/").json()
    assert {row["display_name"] for row in members} >= {"river_walker", "Bob"}
    assert "Alice" not in {row["display_name"] for row in members}


def test_mentions_resolve_by_the_name_here_only(world, tenant_a):
    with tenant_context(tenant_a):
        services.create_reply(acting_member=world.bob, tenant=tenant_a, topic=world.topic, body="@Alice hi")
        assert not Notification.objects.filter(recipient=world.alice, kind=NotificationKind.MENTION).exists()
        services.create_reply(acting_member=world.bob, tenant=tenant_a, topic=world.topic, body="@river_walker hi")
        assert Notification.objects.filter(recipient=world.alice, kind=NotificationKind.MENTION).count() == 1


def test_a_name_ending_in_a_dot_can_be_mentioned_and_is_scrubbed_on_erasure(world, tenant_a):
    TenantMembership.objects.filter(member=world.alice, tenant=tenant_a).update(display_name="Anna K.")
    with tenant_context(tenant_a):
        post = services.create_reply(
            acting_member=world.bob, tenant=tenant_a, topic=world.topic, body="Thanks @AnnaK. for this"
        )
        assert Notification.objects.filter(recipient=world.alice, kind=NotificationKind.MENTION).count() == 1
    from privacy.services import erase_member

    erase_member(member=world.alice, keep_posts=True, requested_by=world.alice)
    with tenant_context(tenant_a):
        post.refresh_from_db()
    assert post.body_markdown == "Thanks @former-member for this"
    assert "AnnaK" not in post.body_html


def test_quotes_and_notifications_name_the_author_as_known_here(world, tenant_a):
    with tenant_context(tenant_a):
        opening = world.topic.posts.get(is_opening=True)
        reply = services.create_reply(
            acting_member=world.bob, tenant=tenant_a, topic=world.topic, body="Same", quoted_post=opening
        )
        assert reply.body_html.startswith("<p>river_walker wrote:</p>")
        TenantMembership.objects.filter(member=world.bob, tenant=tenant_a).update(display_name="Bobcat")
        services.create_reply(acting_member=world.bob, tenant=tenant_a, topic=world.topic, body="More")
    page = signed_in(TENANT_A["domain"], world.alice).get("/notifications/").content.decode()
    assert "Bobcat ·" in page
    assert "Bob ·" not in page
    api = signed_in(TENANT_A["domain"], world.alice).get("/api/v1/notifications/").json()["results"]
    assert {row["actor"]["display_name"] for row in api} == {"Bobcat"}


def test_notification_emails_greet_by_the_name_here(world, tenant_a):
    world.alice.email_notifications = "each"
    world.alice.save(update_fields=["email_notifications"])
    with tenant_context(tenant_a):
        services.create_reply(acting_member=world.bob, tenant=tenant_a, topic=world.topic, body="Hello there")
        mail.outbox.clear()
        assert deliver_instant_emails(tenant=tenant_a) == 1
    assert mail.outbox[0].body.startswith("Hello river_walker,")


def test_the_moderators_request_list_never_shows_an_email(tenant_a):
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, joining_policy="approval")
        nameless = MemberFactory(display_name="", email="secret.person@example.test")
        TenantMembershipFactory(member=nameless, tenant=tenant_a)
        CommunityMembershipFactory(community=world.community, member=nameless, status="pending")
    page = signed_in(TENANT_A["domain"], world.admin).get(f"/manage/communities/{world.community.slug}/requests/")
    text = page.content.decode()
    assert "secret.person" not in text
    assert "A member" in text


def test_topic_page_queries_do_not_grow_with_authors(world, tenant_a):
    client = signed_in(TENANT_A["domain"], world.bob)
    url = f"/t/{world.topic.pk}/"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    client.get(url)  # warm caches (the theme): steady-state counts are compared
    before = count()
    with tenant_context(tenant_a):
        for number in range(5):
            author = MemberFactory(display_name=f"Author {number}")
            TenantMembershipFactory(member=author, tenant=tenant_a, display_name=f"here_{number}")
            CommunityMembershipFactory(community=world.community, member=author)
            services.create_reply(acting_member=author, tenant=tenant_a, topic=world.topic, body=f"Reply {number}")
    assert count() == before
    assert "here_4" in client.get(url).content.decode()


def test_the_moderation_log_names_people_as_known_here(world, tenant_a):
    TenantMembership.objects.filter(member=world.moderator, tenant=tenant_a).update(display_name="mod_here")
    with tenant_context(tenant_a):
        services.delete_post(
            acting_member=world.moderator, tenant=tenant_a, post=world.topic.posts.get(is_opening=True), reason="spam"
        )
    page = signed_in(TENANT_A["domain"], world.admin).get("/manage/log/").content.decode()
    assert "river_walker" in page
    assert "mod_here" in page
    assert "Alice" not in page
    mine = signed_in(TENANT_A["domain"], world.alice).get("/api/v1/moderation-log/").json()
    assert [(row["actor"], row["subject"]) for row in mine] == [("mod_here", "river_walker")]


def test_a_name_chosen_on_one_tenant_never_shows_on_another(world, tenant_a, tenant_b):
    alice = world.alice
    TenantMembershipFactory(member=alice, tenant=tenant_b)  # no name chosen on B
    with tenant_context(tenant_b):
        world_b = community_world(tenant=tenant_b, visibility=Visibility.OPEN)
        CommunityMembershipFactory(community=world_b.community, member=alice)
        topic = services.create_topic(
            acting_member=alice, tenant=tenant_b, community=world_b.community, kind=TopicKind.UPDATE,
            title="On B", body="Hello from B",
        )  # fmt: skip
    client = signed_in(TENANT_B["domain"], world_b.bob)
    api = client.get(f"/api/v1/topics/{topic.pk}/").json()
    assert api["author"]["display_name"] == "Alice"
    for url in (f"/t/{topic.pk}/", f"/c/{world_b.community.slug}/", "/api/v1/feed/", "/api/v1/members/"):
        assert "river_walker" not in client.get(url).content.decode(), url
    # And the mention of her A-name on B reaches no one.
    with tenant_context(tenant_b):
        services.create_reply(acting_member=world_b.bob, tenant=tenant_b, topic=topic, body="@river_walker hi")
        assert not Notification.objects.filter(recipient=alice, kind=NotificationKind.MENTION).exists()
