"""Issue 9, point 7: a partner names a member only by an id of its own.

The walk below requests every API endpoint of a partner host (list and detail, as members in each
role, with data present) and fails on any global member id (Member.pk, Member.public_id, email) in
any response. Its members get distinctive primary keys, so a leaked pk cannot hide among the small
ids of topics and posts. A new endpoint whose URL takes a parameter the walk cannot fill fails it
too: add an example below rather than leaving the endpoint unwalked.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import tenant_context

from apitokens import services as token_services
from cms import services as cms_services
from communities import moderation
from communities import services as community_services
from communities.models import CommunityMembership, JoiningPolicy, Post, ReviewItem, Tag, TopicKind, Visibility
from members.models import Member
from members.selectors import local_id_of, member_by_local_id
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import (
    CommunityFactory,
    CommunityMembershipFactory,
    ExpertSessionPageFactory,
    MemberFactory,
    ResourcePageFactory,
    TenantMembershipFactory,
)
from trials.models import Trial

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]
JSON = "application/json"
PK_BASE = 7_310_000_000_000  # far above any row id the suite makes


def _member(name: str, n: int, **fields: Any) -> Any:
    return MemberFactory(
        pk=PK_BASE + n * 7919, email=f"{name}.walk{n}@example.test", display_name=name.title(),
        listed_in_member_lists=True, show_role=True, show_location=True, show_conditions=True,
        role="patient", country="DE", region="Bavaria", **fields,
    )  # fmt: skip


@pytest.fixture
def world(tenant_a, tenant_b, settings) -> Any:
    settings.KINDRED_POSTING_RATE = "1000/1m"
    people = {}
    for n, (name, role) in enumerate(
        [("admin", "admin"), ("moderator", "moderator"), ("alice", "member"), ("bob", "member"),
         ("carol", "member"), ("pending", "member")],
        start=1,
    ):  # fmt: skip
        people[name] = _member(name, n)
        TenantMembershipFactory(member=people[name], tenant=tenant_a, role=role)
        TenantMembershipFactory(member=people[name], tenant=tenant_b)
    Trial.objects.create(
        nct_id="NCT07310001", brief_title="Walk trial", overall_status="RECRUITING",
        last_update_posted=datetime.date(2026, 1, 1),
    )  # fmt: skip
    with tenant_context(tenant_a):
        community: Any = CommunityFactory(
            slug="walk-circle", name="Walk circle", visibility=Visibility.MEMBERS_ONLY,
            joining_policy=JoiningPolicy.APPROVAL,
        )  # fmt: skip
        for name in ("alice", "bob", "moderator", "admin"):
            CommunityMembershipFactory(community=community, member=people[name])
        community_services.join_community(member=people["pending"], tenant=tenant_a, community=community)
        tag = Tag.objects.create(community=community, kind="symptom", name="Fatigue", slug="fatigue", status="curated")
        topic = community_services.create_topic(
            acting_member=people["alice"], tenant=tenant_a, community=community, kind=TopicKind.QUESTION,
            title="Walking with fatigue", body="Any tips? @Bob", tag_ids=[tag.pk],
        )  # fmt: skip
        reply = community_services.create_reply(
            acting_member=people["bob"], tenant=tenant_a, topic=topic, body="Short walks, @Alice."
        )
        community_services.react(member=people["alice"], tenant=tenant_a, post=reply, kind="helpful")
        rude = community_services.create_reply(acting_member=people["bob"], tenant=tenant_a, topic=topic, body="Rude")
        community_services.delete_post(acting_member=people["moderator"], tenant=tenant_a, post=rude, reason="Be kind")
        community_services.mark_answer(acting_member=people["alice"], tenant=tenant_a, topic=topic, post=reply)
        community_services.open_trial_discussion(
            acting_member=people["alice"], tenant=tenant_a, community=community, nct_id="NCT07310001"
        )
        pending = CommunityMembership.objects.get(member=people["pending"], community=community)
        opening = Post.objects.get(topic=topic, is_opening=True)
        # A report puts the reply in the review queue: its item names the flagger and the author.
        flag = moderation.flag_post(member=people["alice"], tenant=tenant_a, post=reply, reason="spam")
        item = ReviewItem.objects.get(post=flag.post)
        word = moderation.add_watched_word(
            acting_member=people["admin"], tenant=tenant_a, pattern="miracle cure", action="flag"
        )
        synonym = community_services.create_search_synonym(
            acting_member=people["admin"], tenant=tenant_a, terms=["MTX", "methotrexate"]
        )
        # The partner's pages: a resource, an expert session with a voted, answered question.
        resource: Any = ResourcePageFactory(title="Walking with fatigue")
        session: Any = ExpertSessionPageFactory(community=community, title="Ask a physio")
        question = cms_services.submit_question(
            member=people["alice"], tenant=tenant_a, session=session, body="How far should I walk each day?"
        )
        cms_services.set_vote(member=people["bob"], tenant=tenant_a, question=question, voted=True)
        restriction = moderation.restrict_member(
            acting_member=people["moderator"], tenant=tenant_a, member=people["pending"], kind="silenced",
            reason="Cooling off", days=1,
        )  # fmt: skip
    use_public_schema()
    token = token_services.create_personal_token(
        member=people["alice"], tenant=tenant_a, name="walk", scopes=["read"], expires_in_days=5
    ).token
    examples = {
        "slug": community.slug,
        "topic_id": topic.pk,
        "post_id": opening.pk,
        "tag_id": tag.pk,
        "request_id": pending.pk,
        "member_id": local_id_of(people["alice"], tenant=tenant_a),
        "nct_id": "NCT07310001",
        "kind": "helpful",
        "token_id": token.pk,
        "item_id": item.pk,
        "word_id": word.pk,
        "synonym_id": synonym.pk,
        "page_id": resource.pk,
        "session_id": session.pk,
        "question_id": question.pk,
        "restriction_id": restriction.pk,
    }
    return type("World", (), {"people": people, "examples": examples, "tenant": tenant_a, "reply": reply})


def _api_routes() -> list[tuple[str, list[str]]]:
    """(route, parameter names) of every pattern under /api/v1/ on a partner host."""
    routes: list[tuple[str, list[str]]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                routes.append((route, re.findall(r"<(?:\w+:)?(\w+)>", route)))

    walk(get_resolver("config.urls_tenant").url_patterns, "")
    return routes


def _fill(route: str, examples: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in examples, f"/{route}: no example for <{name}>; add one to the walk's examples"
        return str(examples[name])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


def _global_ids(members: list[Member]) -> list[tuple[str, re.Pattern[str]]]:
    found = []
    for member in members:
        for label, text in (("pk", str(member.pk)), ("public_id", str(member.public_id)),
                            ("public_id hex", member.public_id.hex), ("email", member.email)):  # fmt: skip
            found.append(
                (f"{member.display_name}'s {label}", re.compile(rf"(?<![\w.-]){re.escape(text)}(?![\w-])", re.I))
            )
    return found


def _leaks(body: str, ids: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    return [label for label, pattern in ids if pattern.search(body)]


def test_no_tenant_api_response_carries_a_global_member_id(world):
    members = list(world.people.values())
    ids = _global_ids(members)
    routes = _api_routes()
    assert len(routes) >= 40  # the walk sees the whole API, not a corner of it
    clients = {name: signed_in(HOST, world.people[name]) for name in ("alice", "moderator", "admin")}
    clients["anonymous"] = host_client(HOST)
    clients["token"] = host_client(HOST)  # filled below with a bearer token
    raw = token_services.create_personal_token(
        member=world.people["moderator"], tenant=world.tenant, name="walk2",
        scopes=["read", "moderate", "admin"], expires_in_days=5,
    ).secret  # fmt: skip
    clients["token"] = host_client(HOST, HTTP_AUTHORIZATION=f"Bearer {raw}")
    leaks: list[str] = []
    statuses: dict[str, set[int]] = {}
    for route, _params in routes:
        url = _fill(route, world.examples)
        for who, client in clients.items():
            response = client.get(url, HTTP_ACCEPT=JSON)
            statuses.setdefault(url, set()).add(response.status_code)
            leaks += [f"GET {url} as {who}: {label}" for label in _leaks(response.content.decode(), ids)]
    assert leaks == []
    # The walk saw real data: most GET endpoints answered 200 to someone.
    readable = [url for url, codes in statuses.items() if 200 in codes]
    assert len(readable) >= 25, sorted(statuses.items())


NEW_TOPIC = {"kind": "update", "title": "Hello from Alice", "body": "Hello @Bob"}


def test_writes_answer_without_global_member_ids(world):
    ids = _global_ids(list(world.people.values()))
    alice = signed_in(HOST, world.people["alice"])
    moderator = signed_in(HOST, world.people["moderator"])
    admin = signed_in(HOST, world.people["admin"])
    ex = world.examples
    responses = [
        alice.post(f"/api/v1/communities/{ex['slug']}/topics/", NEW_TOPIC, content_type=JSON),
        alice.post(f"/api/v1/topics/{ex['topic_id']}/posts/", {"body": "More", "quoted_post_id": world.reply.pk},
                   content_type=JSON),
        alice.put(f"/api/v1/posts/{world.reply.pk}/reactions/support/"),
        alice.patch("/api/v1/me/", {"region": "Bavaria"}, content_type=JSON),
        alice.put("/api/v1/me/name/", {"display_name": "Alice W."}, content_type=JSON),
        moderator.post(f"/api/v1/communities/{ex['slug']}/requests/{ex['request_id']}/", {"approve": True},
                       content_type=JSON),
        admin.put(f"/api/v1/members/{local_id_of(world.people['carol'], tenant=world.tenant)}/role/",
                  {"role": "moderator"}, content_type=JSON),
        admin.post("/api/v1/service-tokens/", {"name": "CRM", "scopes": ["read"], "expires_in_days": 3},
                   content_type=JSON),
    ]  # fmt: skip
    assert [r.status_code for r in responses] == [201, 201, 200, 200, 200, 200, 200, 201]
    leaks = [f"{r.request['PATH_INFO']}: {label}" for r in responses for label in _leaks(r.content.decode(), ids)]
    assert leaks == []


def test_tenant_pages_show_no_global_member_id(world):
    ids = _global_ids(list(world.people.values()))
    ex = world.examples
    pages = ["/", f"/c/{ex['slug']}/", f"/t/{ex['topic_id']}/", "/members/", f"/members/{ex['member_id']}/",
             "/notifications/", "/search/?q=fatigue", "/manage/", "/manage/log/",
             f"/manage/communities/{ex['slug']}/requests/", f"/manage/communities/{ex['slug']}/tags/",
             "/members/me/name/", "/members/me/tokens/", "/trials/NCT07310001/"]  # fmt: skip
    leaks = []
    for who in ("alice", "bob", "moderator", "admin"):
        client = signed_in(HOST, world.people[who])
        for page in pages:
            response = client.get(page)
            assert response.status_code in (200, 302, 403, 404), (who, page, response.status_code)
            leaks += [f"{page} as {who}: {label}" for label in _leaks(response.content.decode(), ids)
                      if not label.startswith(world.people[who].display_name)]  # fmt: skip
    assert leaks == []


def test_the_same_member_has_a_different_id_on_each_partner(world, tenant_b):
    alice = world.people["alice"]
    on_a, on_b = local_id_of(alice, tenant=world.tenant), local_id_of(alice, tenant=tenant_b)
    assert on_a != on_b
    assert str(alice.public_id) not in (on_a, on_b) and alice.public_id.hex not in on_a + on_b
    # Each host says so itself, and says it the same way every time.
    me_a = signed_in(HOST, alice).get("/api/v1/me/").json()["id"]
    me_b = signed_in(TENANT_B["domain"], alice).get("/api/v1/me/").json()["id"]
    assert (me_a, me_b) == (on_a, on_b)
    assert signed_in(HOST, alice).get("/api/v1/me/").json()["id"] == me_a
    # Other members see her under the same id here: as the topic's author and in the member list.
    bob = signed_in(HOST, world.people["bob"])
    topic = bob.get(f"/api/v1/topics/{world.examples['topic_id']}/").json()
    assert topic["author"]["id"] == on_a
    listed = {row["id"] for row in bob.get("/api/v1/profiles/").json()}
    assert on_a in listed and on_b not in listed
    # Her id on B names no one on A, and the other way round.
    assert bob.get(f"/api/v1/profiles/{on_b}/").status_code == 404
    assert signed_in(TENANT_B["domain"], world.people["bob"]).get(f"/api/v1/profiles/{on_a}/").status_code == 404
    assert signed_in(TENANT_B["domain"], world.people["bob"]).get(f"/api/v1/profiles/{on_b}/").status_code == 200


def test_ids_survive_leaving_and_rejoining_and_are_looked_up_by_index(world):
    from django.db import connection

    from members.services import join_tenant, leave_tenant

    alice = world.people["alice"]
    before = local_id_of(alice, tenant=world.tenant)
    leave_tenant(member=alice, tenant=world.tenant)
    use_public_schema()
    join_tenant(member=alice, tenant=world.tenant)
    use_public_schema()
    assert alice.memberships.get(tenant=world.tenant).local_id == before
    assert member_by_local_id(tenant=world.tenant, local_id=before).member_id == alice.pk
    # The lookup (tenant, local_id) has an index of its own (the planner may still pick another on a
    # table this small, so the index itself is what is checked).
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'unique_tenant_local_id'")
        (definition,) = cursor.fetchone()
    assert "UNIQUE INDEX" in definition and "(tenant_id, local_id)" in definition
