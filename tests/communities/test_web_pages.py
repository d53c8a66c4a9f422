"""The server-rendered community pages on a tenant host: who sees what, the forms that call the
services, robots rules, inert user text and bounded queries on the topic page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from communities import services
from communities.models import (
    CommunityMembership,
    JoiningPolicy,
    Notification,
    Post,
    Reaction,
    TagKind,
    Topic,
    TopicKind,
    TopicSubscription,
    Visibility,
    WatchLevel,
)
from tenants.db import use_public_schema
from tests.communities.worlds import open_community_joined_by_alice, start_topic
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import (
    CommunityFactory,
    CommunityMembershipFactory,
    PostFactory,
    TagFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]
NOINDEX_META = '<meta name="robots" content="noindex, nofollow">'


@pytest.fixture
def world_fields():
    return {"name": "Lupus circle", "slug": "lupus-circle"}


@pytest.fixture
def world(world):
    w = world
    w.tag = TagFactory(community=w.community, kind=TagKind.SYMPTOM, name="Fatigue", slug="fatigue")
    w.open_community = open_community_joined_by_alice(w, name="Open porch", slug="open-porch")
    w.secret = start_topic(
        w, title="Private worry about flares", body="Secret body text only for members", tag_ids=[w.tag.pk]
    )
    w.update = start_topic(
        w, title="Bob's garden update", body="Tomatoes are growing", member=w.bob, kind=TopicKind.UPDATE
    )
    w.public = start_topic(
        w,
        title="Public walk about flares",
        body="Everyone may read this",
        community=w.open_community,
        kind=TopicKind.UPDATE,
    )
    use_public_schema()
    return w


def client_for(member):
    return signed_in(HOST, member)


def text(response) -> str:
    return response.content.decode()


# --- home ------------------------------------------------------------------------------------


def test_home_for_anonymous_shows_open_topics_and_communities_only(world):
    response = host_client(HOST).get("/")
    assert response.status_code == 200
    body = text(response)
    assert "Public walk about flares" in body
    assert 'href="/c/open-porch/"' in body
    assert "Private worry" not in body
    assert "Lupus circle" not in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert NOINDEX_META in body


def test_home_for_a_member_shows_their_feed_and_communities(world):
    response = client_for(world.alice).get("/")
    body = text(response)
    assert response.status_code == 200
    assert f"You are a member of {TENANT_A['name']}" in body
    assert "Private worry about flares" in body
    assert "Your communities" in body
    assert 'href="/c/lupus-circle/"' in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_home_feed_has_a_more_link_that_continues_without_repeats(world, tenant_a):
    with tenant_context(tenant_a):
        for number in range(25):
            TopicFactory(community=world.community, title=f"Bulk topic {number:02d}", author=world.bob)
    use_public_schema()
    client = client_for(world.alice)
    first = text(client.get("/"))
    assert "More</a>" in first
    cursor = first.split('href="?cursor=')[1].split('"')[0]
    second = text(client.get(f"/?cursor={cursor}"))
    titles = [f"Bulk topic {number:02d}" for number in range(25)]
    shown_first = {title for title in titles if title in first}
    shown_second = {title for title in titles if title in second}
    assert shown_first and shown_second
    assert not shown_first & shown_second


# --- community page --------------------------------------------------------------------------


def test_members_only_community_is_404_without_leaks_for_outsiders(world, tenant_b):
    clients = {
        "anonymous": host_client(HOST),
        "stranger": client_for(world.stranger),
        "tenant b": host_client(TENANT_B["domain"]),
    }
    for who, client in clients.items():
        for path in ("/c/lupus-circle/", f"/t/{world.secret.pk}/", "/c/lupus-circle/new/?kind=question"):
            response = client.get(path)
            assert response.status_code in (404, 302), (who, path)
            assert "Private worry" not in text(response), (who, path)
            if path != "/c/lupus-circle/new/?kind=question" or who == "stranger":
                assert response.status_code == 404, (who, path)


def test_tenant_member_outside_the_community_sees_it_exists_but_not_its_topics(world):
    client = client_for(world.carol)
    response = client.get("/c/lupus-circle/")
    body = text(response)
    assert response.status_code == 200
    assert "Lupus circle" in body
    assert "Private worry" not in body
    assert "Join</button>" in body
    assert client.get(f"/t/{world.secret.pk}/").status_code == 404
    assert client.get("/c/lupus-circle/new/?kind=question").status_code == 404


def test_community_page_for_a_member_lists_topics_with_filters(world):
    client = client_for(world.alice)
    body = text(client.get("/c/lupus-circle/"))
    assert "Private worry about flares" in body and "Bob&#x27;s garden update" in body
    assert 'href="/c/lupus-circle/new/?kind=question">Post a question' in body
    assert 'href="/c/lupus-circle/new/?kind=update">Share an update' in body
    questions = text(client.get("/c/lupus-circle/?kind=question"))
    assert "Private worry" in questions and "garden" not in questions
    updates = text(client.get("/c/lupus-circle/?kind=update"))
    assert "Private worry" not in updates and "garden" in updates
    tagged = text(client.get("/c/lupus-circle/?tag=fatigue"))
    assert "Private worry" in tagged and "garden" not in tagged


def test_community_page_paginates_with_a_cursor(world, tenant_a):
    with tenant_context(tenant_a):
        for number in range(35):
            TopicFactory(community=world.open_community, title=f"Porch topic {number:02d}")
    use_public_schema()
    client = host_client(HOST)
    first = text(client.get("/c/open-porch/"))
    cursor = first.split('href="?cursor=')[1].split('"')[0]
    second = text(client.get(f"/c/open-porch/?cursor={cursor}"))
    titles = [f"Porch topic {number:02d}" for number in range(35)]
    assert sum(title in first for title in titles) == 30
    filtered = text(client.get("/c/open-porch/?kind=update"))
    assert 'href="?kind=update&amp;cursor=' in filtered
    assert {t for t in titles if t in second} == {t for t in titles if t not in first}


def test_joining_and_leaving_and_requesting(world, tenant_a):
    client = client_for(world.carol)
    assert client.post("/c/lupus-circle/join/").status_code == 302
    with tenant_context(tenant_a):
        assert CommunityMembership.objects.get(community=world.community, member=world.carol).status == "active"
    use_public_schema()
    assert "Private worry" in text(client.get("/c/lupus-circle/"))
    client.post("/c/lupus-circle/leave/")
    with tenant_context(tenant_a):
        assert not CommunityMembership.objects.filter(community=world.community, member=world.carol).exists()
        CommunityFactory(name="Careful", slug="careful", joining_policy=JoiningPolicy.APPROVAL)
    use_public_schema()
    client.post("/c/careful/join/")
    assert "waiting for a moderator" in text(client.get("/c/careful/"))


def test_writes_are_post_only_and_need_sign_in(world, tenant_a):
    alice = client_for(world.alice)
    assert alice.get("/c/lupus-circle/join/").status_code == 405
    assert alice.get(f"/t/{world.secret.pk}/reply/").status_code == 405
    anonymous = host_client(HOST)
    response = anonymous.post("/c/open-porch/join/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")
    with tenant_context(tenant_a):
        assert CommunityMembership.objects.filter(community=world.open_community).count() == 1


def test_community_watch_level_form(world, tenant_a):
    client = client_for(world.alice)
    client.post("/c/lupus-circle/watch/", {"level": WatchLevel.MUTED})
    with tenant_context(tenant_a):
        assert world.community.subscriptions.get(member=world.alice).level == WatchLevel.MUTED


# --- posting ---------------------------------------------------------------------------------


def test_posting_a_question_with_a_tag_through_the_form(world, tenant_a):
    client = client_for(world.alice)
    form = client.get("/c/lupus-circle/new/?kind=question")
    assert form.status_code == 200 and "Fatigue" in text(form)
    response = client.post(
        "/c/lupus-circle/new/?kind=question",
        {
            "kind": "question",
            "title": "Does anyone nap daily?",
            "body": "I *need* a nap",
            "tag_ids": [world.tag.pk],
            "proposed_tags": "Naps",
        },
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        topic = Topic.objects.get(title="Does anyone nap daily?")
        assert topic.kind == TopicKind.QUESTION
        assert sorted(tag.name for tag in topic.tags.all()) == ["Fatigue", "Naps"]
    use_public_schema()
    assert response["Location"] == f"/t/{topic.pk}/"
    page = text(client.get(f"/t/{topic.pk}/"))
    assert "Does anyone nap daily?" in page and "<em>need</em>" in page and "Fatigue" in page


def test_invalid_topic_shows_the_services_message(world, tenant_a):
    client = client_for(world.alice)
    response = client.post("/c/lupus-circle/new/", {"kind": "update", "title": "  ab  ", "body": "x"})
    assert response.status_code == 200
    assert "A title needs 3 to 200 characters." in text(response)


def test_rate_limit_message_and_status(world, tenant_a, settings):
    settings.KINDRED_POSTING_RATE = "1/1h"
    client = client_for(world.carol)
    with tenant_context(tenant_a):
        CommunityMembershipFactory(community=world.community, member=world.carol)
    use_public_schema()
    data = {"kind": "question", "title": "First question", "body": "Hello"}
    assert client.post("/c/lupus-circle/new/", data).status_code == 302
    response = client.post("/c/lupus-circle/new/", {**data, "title": "Second question"})
    assert response.status_code == 429
    assert "You&#x27;re posting very quickly: at most 1 posts in 1 hour." in text(response)
    with tenant_context(tenant_a):
        assert not Topic.objects.filter(title="Second question").exists()
    use_public_schema()
    reply = client.post(f"/t/{world.secret.pk}/reply/", {"body": "Too fast"})
    assert reply.status_code == 429
    assert "posting very quickly" in text(reply)


# --- thread ----------------------------------------------------------------------------------


def test_reply_quote_react_answer_and_delete(world, tenant_a):
    alice, bob = client_for(world.alice), client_for(world.bob)
    topic_url = f"/t/{world.secret.pk}/"
    with tenant_context(tenant_a):
        opening = Post.objects.get(topic=world.secret, is_opening=True)
    use_public_schema()
    assert f'name="quote" value="{opening.pk}"' in text(bob.get(f"{topic_url}?quote={opening.pk}"))
    assert bob.post(f"{topic_url}reply/", {"body": "Rest helps me", "quote": opening.pk}).status_code == 302
    assert bob.post(f"{topic_url}reply/", {"body": "Also hydration"}).status_code == 302
    with tenant_context(tenant_a):
        first, second = Post.objects.filter(topic=world.secret, is_opening=False).order_by("id")
    use_public_schema()
    page = text(alice.get(topic_url))
    assert "Rest helps me" in page and "<blockquote>" in page and "Also hydration" in page

    react_url = f"{topic_url}p/{first.pk}/react/"
    alice.post(react_url, {"kind": "helpful", "on": "1"})
    alice.post(react_url, {"kind": "helpful", "on": "1"})
    with tenant_context(tenant_a):
        first.refresh_from_db()
        assert first.helpful_count == 1
        assert Reaction.objects.filter(post=first, member=world.alice).count() == 1
    use_public_schema()
    assert "Helpful · 1" in text(alice.get(topic_url))
    alice.post(react_url, {"kind": "helpful"})
    with tenant_context(tenant_a):
        first.refresh_from_db()
        assert first.helpful_count == 0
    use_public_schema()

    assert "Mark as answer" not in text(bob.get(topic_url))
    assert bob.post(f"{topic_url}p/{first.pk}/answer/").status_code == 302
    with tenant_context(tenant_a):
        assert Topic.objects.get(pk=world.secret.pk).answer_id is None
    use_public_schema()
    alice.post(f"{topic_url}p/{first.pk}/answer/")
    with tenant_context(tenant_a):
        assert Topic.objects.get(pk=world.secret.pk).answer_id == first.pk
    use_public_schema()
    assert "Accepted answer" in text(alice.get(topic_url))

    alice.post(f"{topic_url}p/{second.pk}/delete/")  # not hers: refused, nothing changes
    with tenant_context(tenant_a):
        assert Post.objects.get(pk=second.pk).deleted_at is None
    use_public_schema()
    bob.post(f"{topic_url}p/{second.pk}/delete/")
    page = text(alice.get(topic_url))
    assert "[removed]" in page
    assert "Also hydration" not in page
    assert "Rest helps me" in page
    assert "Private worry about flares" in page


def test_moderators_see_removed_posts_and_restore_them(world, tenant_a):
    bob = client_for(world.bob)
    with tenant_context(tenant_a):
        reply = services.create_reply(acting_member=world.bob, tenant=tenant_a, topic=world.secret, body="Oops text")
    use_public_schema()
    bob.post(f"/t/{world.secret.pk}/p/{reply.pk}/delete/")
    moderator = client_for(world.moderator)
    page = text(moderator.get(f"/t/{world.secret.pk}/"))
    assert "Oops text" in page and "Restore</button>" in page
    moderator.post(f"/t/{world.secret.pk}/p/{reply.pk}/restore/")
    assert "Oops text" in text(bob.get(f"/t/{world.secret.pk}/"))


def test_editing_my_post(world, tenant_a):
    alice = client_for(world.alice)
    with tenant_context(tenant_a):
        opening = Post.objects.get(topic=world.secret, is_opening=True)
    use_public_schema()
    url = f"/t/{world.secret.pk}/p/{opening.pk}/edit/"
    assert "Edit</a>" in text(alice.get(f"/t/{world.secret.pk}/"))
    assert client_for(world.bob).get(url).status_code == 404
    response = alice.post(url, {"title": "Private worry, edited", "body": "New words"})
    assert response.status_code == 302
    page = text(alice.get(f"/t/{world.secret.pk}/"))
    assert "Private worry, edited" in page and "New words" in page
    assert "Edit history" not in page and "Secret body text" not in page
    moderator_page = text(client_for(world.moderator).get(f"/t/{world.secret.pk}/"))
    assert "Edit history (1)" in moderator_page and "Secret body text only for members" in moderator_page


def test_quoting_a_post_of_another_topic_is_refused(world, tenant_a):
    with tenant_context(tenant_a):
        other = Post.objects.get(topic=world.update, is_opening=True)
    use_public_schema()
    response = client_for(world.alice).post(f"/t/{world.secret.pk}/reply/", {"body": "Hi", "quote": other.pk})
    assert response.status_code == 400
    assert "You can only quote a post of this topic." in text(response)
    with tenant_context(tenant_a):
        assert not Post.objects.filter(topic=world.secret, is_opening=False).exists()


def test_topic_watch_level_form(world, tenant_a):
    client_for(world.bob).post(f"/t/{world.secret.pk}/watch/", {"level": WatchLevel.MUTED})
    with tenant_context(tenant_a):
        assert TopicSubscription.objects.get(topic=world.secret, member=world.bob).level == WatchLevel.MUTED


def test_xss_in_title_and_body_is_inert(world, tenant_a):
    client = client_for(world.alice)
    payload_title = '<script>alert("t")</script><img src=x onerror=alert(1)>'
    payload_body = '<script>alert("b")</script>\n\n<a href="javascript:alert(2)">x</a> <svg onload=alert(3)>'
    client.post("/c/lupus-circle/new/", {"kind": "update", "title": payload_title, "body": payload_body})
    with tenant_context(tenant_a):
        topic = Topic.objects.get(title__startswith="<script>")
    use_public_schema()
    for path in (f"/t/{topic.pk}/", "/c/lupus-circle/", "/", "/search/?q=script"):
        body = text(client.get(path))
        assert "<script>alert" not in body, path
        assert "<img" not in body and "<svg" not in body, path
        assert not re.search(r"<a\s[^>]*javascript:", body), path
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in text(client.get(f"/t/{topic.pk}/"))


def test_topic_page_queries_do_not_grow_with_replies(world, tenant_a):
    with tenant_context(tenant_a):
        small = TopicFactory(community=world.community, kind=TopicKind.QUESTION, author=world.alice)
        large = TopicFactory(community=world.community, kind=TopicKind.QUESTION, author=world.alice)
        for topic, count in ((small, 5), (large, 50)):
            PostFactory(topic=topic, author=world.alice, is_opening=True)
            for number in range(count):
                PostFactory(topic=topic, author=world.bob if number % 2 else world.moderator)
    use_public_schema()
    client = client_for(world.alice)
    client.get(f"/t/{small.pk}/")  # warm caches (theme, session) alike for both
    counts = []
    for topic in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/t/{topic.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] < 30


# --- robots ----------------------------------------------------------------------------------


def test_open_community_and_topic_pages_may_be_indexed(world):
    client = host_client(HOST)
    for path in ("/c/open-porch/", f"/t/{world.public.pk}/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "X-Robots-Tag" not in response
        assert NOINDEX_META not in text(response)


def test_anonymous_readers_of_an_open_topic_get_no_write_controls(world, tenant_a):
    with tenant_context(tenant_a):
        orphan = PostFactory(topic=world.public, author=None, body_markdown="Left by an erased account")
    use_public_schema()
    body = text(host_client(HOST).get(f"/t/{world.public.pk}/"))
    assert "Everyone may read this" in body and "Left by an erased account" in body
    assert f"/p/{orphan.pk}/edit/" not in body
    assert "/delete/" not in body and "/react/" not in body and "/reply/" not in body
    assert "Sign in</a> to reply" in body


def test_members_only_and_personal_pages_are_not_indexed(world):
    client = client_for(world.alice)
    for path in ("/", "/c/lupus-circle/", f"/t/{world.secret.pk}/", "/notifications/", "/search/?q=flares"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["X-Robots-Tag"] == "noindex, nofollow", path
        assert NOINDEX_META in text(response), path


# --- notifications and search ----------------------------------------------------------------


def test_notifications_list_unread_count_and_mark_all_read(world, tenant_a):
    client_for(world.bob).post(f"/t/{world.secret.pk}/reply/", {"body": "Thinking of you"})
    alice = client_for(world.alice)
    page = text(alice.get("/notifications/"))
    assert "Private worry about flares" in page
    assert "1 unread" in page
    assert 'href="/notifications/">Notifications <span class="unread">(1)</span>' in text(alice.get("/"))
    assert alice.get("/notifications/read/").status_code == 405
    alice.post("/notifications/read/")
    assert "0 unread" in text(alice.get("/notifications/"))
    with tenant_context(tenant_a):
        assert not Notification.objects.filter(recipient=world.alice, read_at__isnull=True).exists()
    use_public_schema()
    anonymous = host_client(HOST).get("/notifications/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/auth/login/")


def test_search_finds_only_readable_topics(world):
    member_results = text(client_for(world.alice).get("/search/?q=flares"))
    assert "Private worry about flares" in member_results and "Public walk about flares" in member_results
    for client in (host_client(HOST), client_for(world.carol)):
        results = text(client.get("/search/?q=flares"))
        assert "Public walk about flares" in results
        assert "Private worry" not in results
    assert "Private worry" not in text(host_client(TENANT_B["domain"]).get("/search/?q=flares"))


def test_tenant_home_narrows_its_own_communities_by_condition(tenant_a):
    from conditions.models import Condition

    ms = Condition.objects.get(mesh_id="D009103")
    diabetes = Condition.objects.get(mesh_id="D003922")
    with tenant_context(tenant_a):
        CommunityFactory(name="Living with MS", slug="living-ms", visibility=Visibility.OPEN).conditions.add(ms)
        CommunityFactory(name="Type 1 circle", slug="t1-circle", visibility=Visibility.OPEN).conditions.add(diabetes)
    use_public_schema()
    page = host_client(TENANT_A["domain"]).get("/", {"community_q": "MS"}).content.decode()
    assert "Living with MS" in page
    assert "Type 1 circle" not in page
    page = host_client(TENANT_A["domain"]).get("/", {"community_q": "no such thing"}).content.decode()
    assert "Search every partner" in page
