"""Communities API v1 on a tenant host: happy paths, the permission matrix, no leaks, idempotency,
bad input (400 "invalid", nothing changed), the posting rate limit (429) and the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from communities import services
from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    CommunitySubscription,
    JoiningPolicy,
    Notification,
    Post,
    Reaction,
    Tag,
    TagKind,
    TagStatus,
    Topic,
    TopicKind,
    TopicSubscription,
)
from members.selectors import local_id_of
from tenants.db import use_public_schema
from tests.communities.worlds import open_community_joined_by_alice, start_topic
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]
API = "/api/v1"
JSON = "application/json"


@contextmanager
def in_tenant(tenant: Any) -> Iterator[None]:
    with tenant_context(tenant):
        yield
    use_public_schema()


@pytest.fixture
def world_fields():
    return {"slug": "lupus-circle", "name": "Lupus circle"}


@pytest.fixture
def world(world):
    w = world
    w.open = open_community_joined_by_alice(w, slug="open-circle", name="Open circle")
    w.topic = start_topic(w, title="Sleep and steroids", body="How do you **sleep** on prednisone?")
    w.post = Post.objects.get(topic=w.topic)
    w.open_topic = start_topic(
        w, title="Hello from the open circle", body="Glad to be here.", community=w.open, kind=TopicKind.UPDATE
    )
    use_public_schema()
    return w


def client_for(world: Any, who: str | None) -> Any:
    return host_client(HOST) if who is None else signed_in(HOST, getattr(world, who))


def reply(world: Any, who: str = "bob", body: str = "Melatonin helps me.") -> Post:
    with in_tenant(world.tenant):
        return services.create_reply(
            acting_member=getattr(world, who), tenant=world.tenant, topic=world.topic, body=body
        )


# ---------------------------------------------------------------------------------------------
# Communities
# ---------------------------------------------------------------------------------------------


class TestCommunities:
    def test_anonymous_reads_open_communities_only(self, world):
        client = host_client(HOST)
        slugs = [row["slug"] for row in client.get(f"{API}/communities/").json()]
        assert slugs == ["open-circle"]
        assert client.get(f"{API}/communities/open-circle/").json()["name"] == "Open circle"
        assert client.get(f"{API}/communities/lupus-circle/").status_code == 404

    def test_tenant_members_see_members_only_communities_listed(self, world):
        slugs = [row["slug"] for row in client_for(world, "carol").get(f"{API}/communities/").json()]
        assert slugs == ["lupus-circle", "open-circle"]

    @pytest.mark.parametrize(
        ("who", "expected"), [(None, 401), ("stranger", 403), ("alice", 403), ("moderator", 403), ("admin", 201)]
    )
    def test_create_community_permission_matrix(self, world, who, expected):
        response = client_for(world, who).post(
            f"{API}/communities/", {"name": "Fatigue", "slug": "fatigue", "visibility": "open"}, content_type=JSON
        )
        assert response.status_code == expected
        with in_tenant(world.tenant):
            assert Community.objects.filter(slug="fatigue").exists() is (expected == 201)
        if expected == 201:
            assert response.json()["visibility"] == "open"
        else:
            assert set(response.json()) == {"code", "message", "details"}

    def test_create_community_bad_input_is_invalid_and_changes_nothing(self, world):
        response = client_for(world, "admin").post(
            f"{API}/communities/", {"slug": "Not A Slug", "visibility": "secret"}, content_type=JSON
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid"
        assert {"name", "slug", "visibility"} <= set(body["details"])
        with in_tenant(world.tenant):
            assert Community.objects.count() == 2

    def test_create_community_slug_taken_is_conflict(self, world):
        response = client_for(world, "admin").post(
            f"{API}/communities/", {"name": "Again", "slug": "open-circle"}, content_type=JSON
        )
        assert response.status_code == 409
        assert response.json()["code"] == "slug_taken"

    @pytest.mark.parametrize(("who", "expected"), [("alice", 403), ("moderator", 403), ("admin", 200)])
    def test_update_community(self, world, who, expected):
        response = client_for(world, who).patch(
            f"{API}/communities/lupus-circle/", {"description": "Changed"}, content_type=JSON
        )
        assert response.status_code == expected
        with in_tenant(world.tenant):
            assert (Community.objects.get(pk=world.community.pk).description == "Changed") is (expected == 200)

    def test_anonymous_cannot_update(self, world):
        response = host_client(HOST).patch(f"{API}/communities/open-circle/", {"name": "Mine"}, content_type=JSON)
        assert response.status_code == 401
        with in_tenant(world.tenant):
            assert Community.objects.get(pk=world.open.pk).name == "Open circle"


class TestMembership:
    def test_join_and_leave_are_idempotent(self, world):
        client = client_for(world, "carol")
        for _ in range(2):
            response = client.post(f"{API}/communities/lupus-circle/membership/")
            assert response.status_code == 200
            assert response.json()["status"] == "active"
        with in_tenant(world.tenant):
            assert CommunityMembership.objects.filter(community=world.community, member=world.carol).count() == 1
        for _ in range(2):
            assert client.delete(f"{API}/communities/lupus-circle/membership/").status_code == 204
        with in_tenant(world.tenant):
            assert not CommunityMembership.objects.filter(community=world.community, member=world.carol).exists()

    def test_anonymous_cannot_join(self, world):
        assert host_client(HOST).post(f"{API}/communities/open-circle/membership/").status_code == 401

    def test_stranger_cannot_find_a_members_only_community(self, world):
        response = client_for(world, "stranger").post(f"{API}/communities/lupus-circle/membership/")
        assert response.status_code == 404
        with in_tenant(world.tenant):
            assert not CommunityMembership.objects.filter(member=world.stranger).exists()

    def test_join_request_flow(self, world):
        with in_tenant(world.tenant):
            Community.objects.filter(pk=world.community.pk).update(joining_policy=JoiningPolicy.APPROVAL)
        assert client_for(world, "carol").post(f"{API}/communities/lupus-circle/membership/").json()["status"] == (
            "pending"
        )
        # Pending: still cannot read the topics.
        assert client_for(world, "carol").get(f"{API}/communities/lupus-circle/topics/").status_code == 404
        assert client_for(world, "alice").get(f"{API}/communities/lupus-circle/requests/").status_code == 403
        assert host_client(HOST).get(f"{API}/communities/lupus-circle/requests/").status_code == 401
        moderator = client_for(world, "moderator")
        requests = moderator.get(f"{API}/communities/lupus-circle/requests/").json()
        assert [(row["member"]["display_name"], row["status"]) for row in requests] == [("Carol", "pending")]
        assert "email" not in requests[0]["member"]
        request_id = requests[0]["id"]
        url = f"{API}/communities/lupus-circle/requests/{request_id}/"
        assert client_for(world, "alice").post(url, {"approve": True}, content_type=JSON).status_code == 403
        bad = moderator.post(url, {"approve": "perhaps"}, content_type=JSON)
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
        with in_tenant(world.tenant):
            assert CommunityMembership.objects.get(pk=request_id).status == CommunityMembershipStatus.PENDING
        response = moderator.post(url, {"approve": True}, content_type=JSON)
        assert (response.status_code, response.json()["status"]) == (200, "active")
        assert moderator.post(url, {"approve": True}, content_type=JSON).status_code == 409
        assert client_for(world, "carol").get(f"{API}/communities/lupus-circle/topics/").status_code == 200

    def test_refusing_a_request(self, world):
        with in_tenant(world.tenant):
            Community.objects.filter(pk=world.community.pk).update(joining_policy=JoiningPolicy.APPROVAL)
        client_for(world, "carol").post(f"{API}/communities/lupus-circle/membership/")
        moderator = client_for(world, "moderator")
        request_id = moderator.get(f"{API}/communities/lupus-circle/requests/").json()[0]["id"]
        response = moderator.post(
            f"{API}/communities/lupus-circle/requests/{request_id}/", {"approve": False}, content_type=JSON
        )
        assert response.status_code == 204
        with in_tenant(world.tenant):
            assert not CommunityMembership.objects.filter(member=world.carol).exists()

    def test_watch_community_is_idempotent_and_validated(self, world):
        client = client_for(world, "alice")
        for _ in range(2):
            response = client.put(f"{API}/communities/lupus-circle/watch/", {"level": "muted"}, content_type=JSON)
            assert response.json() == {"level": "muted"}
        bad = client.put(f"{API}/communities/lupus-circle/watch/", {"level": "loud"}, content_type=JSON)
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
        with in_tenant(world.tenant):
            assert list(CommunitySubscription.objects.filter(member=world.alice).values_list("level", flat=True)) == [
                "muted"
            ]
        assert (
            host_client(HOST).put(f"{API}/communities/open-circle/watch/", {"level": "muted"}, content_type=JSON)
        ).status_code == 401


# ---------------------------------------------------------------------------------------------
# Topics and visibility
# ---------------------------------------------------------------------------------------------


class TestTopicVisibility:
    @pytest.mark.parametrize(
        ("who", "expected"),
        [(None, 404), ("stranger", 404), ("carol", 404), ("alice", 200), ("moderator", 200), ("admin", 200)],
    )
    def test_members_only_topics_matrix(self, world, who, expected):
        client = client_for(world, who)
        listing = client.get(f"{API}/communities/lupus-circle/topics/")
        detail = client.get(f"{API}/topics/{world.topic.pk}/")
        assert (listing.status_code, detail.status_code) == (expected, expected)
        if expected == 404:
            assert "Sleep and steroids" not in listing.content.decode() + detail.content.decode()
            assert detail.json()["code"] == "not_found"

    def test_other_tenant_sees_nothing(self, world, tenant_b):
        for who in ("alice", "admin"):
            client = signed_in(TENANT_B["domain"], getattr(world, who))
            assert client.get(f"{API}/communities/lupus-circle/topics/").status_code == 404
            assert client.get(f"{API}/communities/open-circle/").status_code == 404
            assert client.get(f"{API}/topics/{world.topic.pk}/").status_code == 404
            assert client.get(f"{API}/search/topics/", {"q": "sleep"}).json() == []
            assert client.get(f"{API}/feed/").json()["results"] == []
            response = client.put(f"{API}/posts/{world.post.pk}/reactions/helpful/")
            assert response.status_code == 404

    def test_anonymous_reads_open_topics(self, world):
        client = host_client(HOST)
        page = client.get(f"{API}/communities/open-circle/topics/").json()
        assert [row["title"] for row in page["results"]] == ["Hello from the open circle"]
        assert page["next_cursor"] is None
        detail = client.get(f"{API}/topics/{world.open_topic.pk}/").json()
        assert detail["posts"][0]["body_html"] == "<p>Glad to be here.</p>"
        assert detail["posts"][0]["body_markdown"] is None
        assert detail["author"] == {"id": local_id_of(world.alice, tenant=world.tenant), "display_name": "Alice"}

    def test_topic_list_filters_and_pages(self, world):
        with in_tenant(world.tenant):
            tag = TagFactory(community=world.community, kind=TagKind.TOPIC, name="Sleep", slug="sleep")
            world.topic.tags.add(tag)
            for number in range(31):
                services.create_topic(
                    acting_member=world.bob,
                    tenant=world.tenant,
                    community=world.community,
                    kind=TopicKind.UPDATE,
                    title=f"Update {number}",
                    body="Feeling better.",
                )
        client = client_for(world, "alice")
        questions = client.get(f"{API}/communities/lupus-circle/topics/", {"kind": "question"}).json()
        assert [row["title"] for row in questions["results"]] == ["Sleep and steroids"]
        tagged = client.get(f"{API}/communities/lupus-circle/topics/", {"tag": "sleep"}).json()
        assert [row["tags"][0]["slug"] for row in tagged["results"]] == ["sleep"]
        first = client.get(f"{API}/communities/lupus-circle/topics/").json()
        assert len(first["results"]) == 30
        second = client.get(f"{API}/communities/lupus-circle/topics/", {"cursor": first["next_cursor"]}).json()
        assert len(second["results"]) == 2
        assert second["next_cursor"] is None
        assert {row["id"] for row in first["results"]}.isdisjoint({row["id"] for row in second["results"]})
        bad = client.get(f"{API}/communities/lupus-circle/topics/", {"kind": "rant"})
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid")

    def test_search_respects_visibility(self, world):
        assert [
            row["title"] for row in client_for(world, "alice").get(f"{API}/search/topics/", {"q": "sleep"}).json()
        ] == ["Sleep and steroids"]
        assert host_client(HOST).get(f"{API}/search/topics/", {"q": "sleep"}).json() == []
        assert client_for(world, "carol").get(f"{API}/search/topics/", {"q": "sleep"}).json() == []
        assert [row["title"] for row in host_client(HOST).get(f"{API}/search/topics/", {"q": "open"}).json()] == [
            "Hello from the open circle"
        ]


class TestCreateTopic:
    def test_member_creates_a_topic(self, world):
        with in_tenant(world.tenant):
            tag = TagFactory(community=world.community, kind=TagKind.SYMPTOM, name="Fatigue", slug="fatigue")
        response = client_for(world, "bob").post(
            f"{API}/communities/lupus-circle/topics/",
            {
                "kind": "question",
                "title": "Tired <script>alert(1)</script>",
                "body": "Anyone else? <img src=x onerror=alert(1)> **so tired**",
                "tag_ids": [tag.pk],
                "proposed_tags": ["Brain fog"],
            },
            content_type=JSON,
        )
        assert response.status_code == 201
        data = response.json()
        assert data["author"] == {"id": local_id_of(world.bob, tenant=world.tenant), "display_name": "Bob"}
        assert "email" not in response.content.decode()
        opening = data["posts"][0]
        assert "<strong>so tired</strong>" in opening["body_html"]
        assert "<img" not in opening["body_html"]  # raw HTML is shown as text, never as an element
        assert "&lt;img src=x onerror=alert(1)&gt;" in opening["body_html"]
        assert "<script" not in opening["body_html"]
        assert opening["body_markdown"].startswith("Anyone else?")
        # The proposed tag waits for a moderator: the topic shows only the curated one meanwhile.
        assert {(t["slug"], t["status"]) for t in data["tags"]} == {("fatigue", "curated")}

    @pytest.mark.parametrize(("who", "expected"), [(None, 401), ("stranger", 404), ("carol", 403)])
    def test_non_members_cannot_post(self, world, who, expected):
        response = client_for(world, who).post(
            f"{API}/communities/lupus-circle/topics/",
            {"kind": "update", "title": "Let me in", "body": "Hello"},
            content_type=JSON,
        )
        assert response.status_code == expected
        with in_tenant(world.tenant):
            assert Topic.objects.filter(community=world.community).count() == 1

    @pytest.mark.parametrize(
        "payload",
        [
            {"kind": "rant", "title": "Valid title", "body": "Body"},
            {"kind": "update", "body": "No title"},
            {"kind": "update", "title": "No body"},
            {"kind": "update", "title": "Bad tags", "body": "Body", "tag_ids": "all"},
        ],
    )
    def test_bad_input_is_invalid_and_changes_nothing(self, world, payload):
        response = client_for(world, "alice").post(
            f"{API}/communities/lupus-circle/topics/", payload, content_type=JSON
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        with in_tenant(world.tenant):
            assert Topic.objects.count() == 2

    def test_domain_validation_is_400_with_its_code(self, world):
        response = client_for(world, "alice").post(
            f"{API}/communities/lupus-circle/topics/", {"kind": "update", "title": "ab", "body": "x"}, content_type=JSON
        )
        assert response.status_code == 400
        assert response.json()["code"] == "title_length"
        assert response.json()["details"] == {"title": ["3–200 characters."]}
        with in_tenant(world.tenant):
            assert Topic.objects.count() == 2

    def test_rate_limit_is_429(self, world, settings):
        settings.KINDRED_POSTING_RATE = "2/1h"  # alice already posted twice (the world's two topics)
        client = client_for(world, "alice")
        response = client.post(
            f"{API}/communities/lupus-circle/topics/",
            {"kind": "update", "title": "One more", "body": "Again"},
            content_type=JSON,
        )
        assert response.status_code == 429
        body = response.json()
        assert body["code"] == "posting_rate_limited"
        assert body["details"]["retry_after_seconds"] > 0
        reply_response = client.post(f"{API}/topics/{world.topic.pk}/posts/", {"body": "Me too"}, content_type=JSON)
        assert (reply_response.status_code, reply_response.json()["code"]) == (429, "posting_rate_limited")
        with in_tenant(world.tenant):
            assert Post.objects.filter(author=world.alice).count() == 2


# ---------------------------------------------------------------------------------------------
# Posts
# ---------------------------------------------------------------------------------------------


class TestPosts:
    def test_reply_and_quote(self, world):
        response = client_for(world, "bob").post(
            f"{API}/topics/{world.topic.pk}/posts/",
            {"body": "Melatonin", "quoted_post_id": world.post.pk},
            content_type=JSON,
        )
        assert response.status_code == 201
        data = response.json()
        assert data["quoted_post_id"] == world.post.pk
        assert "<blockquote>" in data["body_html"]
        assert data["body_markdown"] == "Melatonin"
        with in_tenant(world.tenant):
            assert Topic.objects.get(pk=world.topic.pk).reply_count == 1

    @pytest.mark.parametrize(("who", "expected"), [(None, 401), ("stranger", 404), ("carol", 404)])
    def test_reply_denied(self, world, who, expected):
        response = client_for(world, who).post(
            f"{API}/topics/{world.topic.pk}/posts/", {"body": "Let me in"}, content_type=JSON
        )
        assert response.status_code == expected
        with in_tenant(world.tenant):
            assert Post.objects.filter(topic=world.topic).count() == 1

    def test_reply_bad_input(self, world):
        client = client_for(world, "bob")
        for payload in ({}, {"body": "x", "quoted_post_id": world.open_topic.pk + 1000}):
            response = client.post(f"{API}/topics/{world.topic.pk}/posts/", payload, content_type=JSON)
            assert response.status_code == 400
        assert client.post(f"{API}/topics/{world.topic.pk}/posts/", {}, content_type=JSON).json()["code"] == "invalid"
        with in_tenant(world.tenant):
            assert Post.objects.filter(topic=world.topic).count() == 1

    def test_author_edits_others_cannot(self, world):
        url = f"{API}/posts/{world.post.pk}/"
        denied = client_for(world, "bob").patch(url, {"body": "Hijacked"}, content_type=JSON)
        assert (denied.status_code, denied.json()["code"]) == (403, "not_author")
        assert client_for(world, "carol").patch(url, {"body": "Hijacked"}, content_type=JSON).status_code == 404
        response = client_for(world, "alice").patch(
            url, {"body": "How do you *rest*?", "title": "Rest and steroids"}, content_type=JSON
        )
        assert response.status_code == 200
        assert response.json()["body_html"] == "<p>How do you <em>rest</em>?</p>"
        assert response.json()["edit_count"] == 1
        with in_tenant(world.tenant):
            assert Topic.objects.get(pk=world.topic.pk).title == "Rest and steroids"
        bad = client_for(world, "alice").patch(url, {"title": "No body"}, content_type=JSON)
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid")

    def test_delete_keeps_the_thread_and_moderators_restore(self, world):
        post = reply(world)
        other = reply(world, who="alice", body="Thanks!")
        assert client_for(world, "alice").delete(f"{API}/posts/{post.pk}/").status_code == 403
        assert client_for(world, "bob").delete(f"{API}/posts/{post.pk}/").status_code == 204
        thread = client_for(world, "alice").get(f"{API}/topics/{world.topic.pk}/").json()["posts"]
        assert [p["body_html"] for p in thread] == [
            "<p>How do you <strong>sleep</strong> on prednisone?</p>",
            "<p>[removed]</p>",
            "<p>Thanks!</p>",
        ]
        assert [p["id"] for p in thread] == [world.post.pk, post.pk, other.pk]
        assert thread[1]["is_removed"] is True
        moderator_view = client_for(world, "moderator").get(f"{API}/topics/{world.topic.pk}/").json()["posts"]
        assert moderator_view[1]["body_html"] == "<p>Melatonin helps me.</p>"
        assert client_for(world, "bob").post(f"{API}/posts/{post.pk}/restore/").status_code == 403
        restored = client_for(world, "moderator").post(f"{API}/posts/{post.pk}/restore/")
        assert (restored.status_code, restored.json()["is_removed"]) == (200, False)
        with in_tenant(world.tenant):
            assert Post.objects.get(pk=post.pk).deleted_at is None

    def test_reactions_are_idempotent(self, world):
        url = f"{API}/posts/{world.post.pk}/reactions/helpful/"
        client = client_for(world, "bob")
        first, second = client.put(url), client.put(url)
        assert (first.status_code, first.json()["changed"]) == (200, True)
        assert (second.status_code, second.json()["changed"]) == (200, False)
        assert second.json()["reactions"] == {"helpful": 1, "same_here": 0, "support": 0}
        thread = client.get(f"{API}/topics/{world.topic.pk}/").json()
        assert thread["posts"][0]["my_reactions"] == ["helpful"]
        assert thread["reaction_count"] == 1
        assert client.delete(url).status_code == 204
        assert client.delete(url).status_code == 204
        with in_tenant(world.tenant):
            assert not Reaction.objects.exists()
            assert Post.objects.get(pk=world.post.pk).helpful_count == 0

    @pytest.mark.parametrize(("who", "expected"), [(None, 401), ("stranger", 404), ("carol", 404)])
    def test_reactions_denied(self, world, who, expected):
        assert client_for(world, who).put(f"{API}/posts/{world.post.pk}/reactions/helpful/").status_code == expected
        with in_tenant(world.tenant):
            assert not Reaction.objects.exists()

    def test_unknown_reaction_is_invalid(self, world):
        response = client_for(world, "bob").put(f"{API}/posts/{world.post.pk}/reactions/angry/")
        assert response.status_code == 400
        with in_tenant(world.tenant):
            assert not Reaction.objects.exists()

    def test_watch_topic_is_idempotent(self, world):
        client = client_for(world, "bob")
        for _ in range(2):
            response = client.put(f"{API}/topics/{world.topic.pk}/watch/", {"level": "watching"}, content_type=JSON)
            assert response.json() == {"level": "watching"}
        assert client.put(f"{API}/topics/{world.topic.pk}/watch/", {}, content_type=JSON).json()["code"] == "invalid"
        assert (
            client_for(world, "carol").put(
                f"{API}/topics/{world.topic.pk}/watch/", {"level": "watching"}, content_type=JSON
            )
        ).status_code == 404
        with in_tenant(world.tenant):
            assert TopicSubscription.objects.filter(topic=world.topic, member=world.bob).count() == 1
            assert not TopicSubscription.objects.filter(member=world.carol).exists()

    def test_mark_answer(self, world):
        post = reply(world)
        url = f"{API}/topics/{world.topic.pk}/answer/"
        denied = client_for(world, "bob").post(url, {"post_id": post.pk}, content_type=JSON)
        assert (denied.status_code, denied.json()["code"]) == (403, "not_author")
        bad = client_for(world, "alice").post(url, {"post_id": "x"}, content_type=JSON)
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
        response = client_for(world, "alice").post(url, {"post_id": post.pk}, content_type=JSON)
        assert (response.status_code, response.json()["answer_post_id"]) == (200, post.pk)
        thread = client_for(world, "bob").get(f"{API}/topics/{world.topic.pk}/").json()["posts"]
        assert [p["is_answer"] for p in thread] == [False, True]


# ---------------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------------


class TestTags:
    def test_members_propose_moderators_curate_and_merge(self, world):
        url = f"{API}/communities/lupus-circle/tags/"
        proposed = client_for(world, "alice").post(url, {"kind": "symptom", "name": "Joint pain"}, content_type=JSON)
        assert (proposed.status_code, proposed.json()["status"]) == (201, "proposed")
        curated = client_for(world, "moderator").post(url, {"kind": "symptom", "name": "Arthralgia"}, content_type=JSON)
        assert (curated.status_code, curated.json()["status"]) == (201, "curated")
        # Proposed tags are listed to moderators and to whoever proposed them, not to everyone.
        listed = client_for(world, "bob").get(url).json()
        assert {(t["name"], t["status"]) for t in listed} == {("Arthralgia", "curated")}
        listed = client_for(world, "alice").get(url).json()
        assert {(t["name"], t["status"]) for t in listed} == {("Joint pain", "proposed"), ("Arthralgia", "curated")}
        merge_url = f"{API}/tags/{proposed.json()['id']}/merge/"
        assert (
            client_for(world, "alice").post(merge_url, {"into": curated.json()["id"]}, content_type=JSON).status_code
            == 403
        )
        bad = client_for(world, "moderator").post(merge_url, {"into": "arthralgia"}, content_type=JSON)
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
        merged = client_for(world, "moderator").post(merge_url, {"into": curated.json()["id"]}, content_type=JSON)
        assert (merged.status_code, merged.json()["name"]) == (200, "Arthralgia")
        with in_tenant(world.tenant):
            assert Tag.objects.get(pk=proposed.json()["id"]).status == TagStatus.MERGED
        assert [t["name"] for t in client_for(world, "bob").get(url).json()] == ["Arthralgia"]

    @pytest.mark.parametrize(("who", "expected"), [(None, 404), ("stranger", 404), ("carol", 404)])
    def test_tags_of_members_only_community_are_hidden(self, world, who, expected):
        with in_tenant(world.tenant):
            tag = TagFactory(community=world.community, name="Secret", slug="secret")
        client = client_for(world, who)
        assert client.get(f"{API}/communities/lupus-circle/tags/").status_code == expected
        merge = client.post(f"{API}/tags/{tag.pk}/merge/", {"into": tag.pk}, content_type=JSON)
        assert merge.status_code in ({401} if who is None else {403, 404})

    def test_non_member_cannot_propose(self, world):
        response = client_for(world, "carol").post(
            f"{API}/communities/open-circle/tags/", {"kind": "symptom", "name": "Rash"}, content_type=JSON
        )
        assert (response.status_code, response.json()["code"]) == (403, "not_community_member")
        bad = client_for(world, "alice").post(
            f"{API}/communities/open-circle/tags/", {"kind": "mood", "name": "Rash"}, content_type=JSON
        )
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
        with in_tenant(world.tenant):
            assert not Tag.objects.exists()


# ---------------------------------------------------------------------------------------------
# Feed and notifications
# ---------------------------------------------------------------------------------------------


class TestFeedAndNotifications:
    def test_feed(self, world):
        anonymous = host_client(HOST).get(f"{API}/feed/").json()
        assert [item["topic"]["title"] for item in anonymous["results"]] == ["Hello from the open circle"]
        assert anonymous["next_cursor"] is None
        mine = client_for(world, "bob").get(f"{API}/feed/").json()
        titles = {item["topic"]["title"] for item in mine["results"]}
        assert "Sleep and steroids" in titles
        assert all({"score", "reasons"} <= set(item) for item in mine["results"])
        carol = client_for(world, "carol").get(f"{API}/feed/").json()
        assert "Sleep and steroids" not in {item["topic"]["title"] for item in carol["results"]}

    def test_notifications(self, world):
        reply(world)
        assert host_client(HOST).get(f"{API}/notifications/").status_code == 401
        client = client_for(world, "alice")
        data = client.get(f"{API}/notifications/", {"unread": "1"}).json()
        assert data["unread_count"] == 1
        assert [(n["kind"], n["topic_id"], n["actor"]["display_name"]) for n in data["results"]] == [
            ("reply", world.topic.pk, "Bob")
        ]
        assert client_for(world, "carol").get(f"{API}/notifications/").json() == {"results": [], "unread_count": 0}
        bad = client.post(f"{API}/notifications/read/", {"ids": "all"}, content_type=JSON)
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
        # Someone else's ids change nothing.
        assert client_for(world, "bob").post(
            f"{API}/notifications/read/", {"ids": [data["results"][0]["id"]]}, content_type=JSON
        ).json() == {"marked": 0, "unread_count": 0}
        response = client.post(f"{API}/notifications/read/", {}, content_type=JSON)
        assert response.json() == {"marked": 1, "unread_count": 0}
        assert client.get(f"{API}/notifications/", {"unread": "1"}).json() == {"results": [], "unread_count": 0}
        with in_tenant(world.tenant):
            assert Notification.objects.get(recipient=world.alice).read_at is not None


def count_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_and_detail_queries_do_not_grow_with_rows(world):
    client = client_for(world, "alice")
    urls = [
        f"{API}/communities/lupus-circle/topics/",
        f"{API}/topics/{world.topic.pk}/",
        f"{API}/feed/",
        f"{API}/notifications/",
        f"{API}/search/topics/?q=e",
    ]
    reply(world)
    client.get(urls[0])  # warm the host-routing cache, so both counts are of warm requests
    before = [count_queries(client, url) for url in urls]
    with in_tenant(world.tenant):
        tag = TagFactory(community=world.community, kind=TagKind.TOPIC, name="Sleep", slug="sleep")
        for number in range(5):
            topic = services.create_topic(
                acting_member=world.bob,
                tenant=world.tenant,
                community=world.community,
                kind=TopicKind.UPDATE,
                title=f"Update {number}",
                body="Feeling better.",
                tag_ids=[tag.pk],
            )
            services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Good news")
            services.create_reply(
                acting_member=world.bob, tenant=world.tenant, topic=world.topic, body=f"More {number}"
            )
    assert [count_queries(client, url) for url in urls] == before


def test_openapi_schema_lists_the_community_paths(tenant_a):
    response = host_client(HOST).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    assert {
        "/api/v1/communities/",
        "/api/v1/communities/{slug}/",
        "/api/v1/communities/{slug}/membership/",
        "/api/v1/communities/{slug}/requests/",
        "/api/v1/communities/{slug}/requests/{request_id}/",
        "/api/v1/communities/{slug}/watch/",
        "/api/v1/communities/{slug}/tags/",
        "/api/v1/communities/{slug}/topics/",
        "/api/v1/tags/{tag_id}/merge/",
        "/api/v1/topics/{topic_id}/",
        "/api/v1/topics/{topic_id}/watch/",
        "/api/v1/topics/{topic_id}/answer/",
        "/api/v1/topics/{topic_id}/posts/",
        "/api/v1/search/topics/",
        "/api/v1/posts/{post_id}/",
        "/api/v1/posts/{post_id}/restore/",
        "/api/v1/posts/{post_id}/reactions/{kind}/",
        "/api/v1/feed/",
        "/api/v1/notifications/",
        "/api/v1/notifications/read/",
    } <= paths
