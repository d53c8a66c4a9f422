"""The search page, /api/v1/search/ and the partner's synonym list (page and API): same parameters,
same visibility, clear errors, escaped snippets, admins only for synonyms."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from communities import services
from communities.models import SearchSynonym, TopicKind, Visibility
from communities.search import UNKNOWN_AUTHOR
from members.selectors import local_id_of
from tenants.db import use_public_schema
from tests.communities.worlds import open_community_joined_by_alice, reply_to, start_topic
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import TenantMembershipFactory, community_world

pytestmark = pytest.mark.django_db
HOST = TENANT_A["domain"]


@pytest.fixture
def world(world):
    w = world
    w.open = open_community_joined_by_alice(w, name="Open lupus", slug="open-lupus")
    w.public_topic = start_topic(w, title="Hair loss", body="My hair thins in <b>winter</b>.", community=w.open)
    reply_to(w, w.public_topic, body="Biotin <script>x()</script> helped.", member=w.alice)
    w.closed_topic = start_topic(w, title="Closed room", body="Biotin again, privately.", kind=TopicKind.UPDATE)
    use_public_schema()
    return w


def test_page_shows_topics_posts_and_escaped_snippets(world):
    response = host_client(HOST).get("/search/", {"q": "biotin"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hair loss" in html
    assert "Closed room" not in html  # members only
    assert "<mark>Biotin</mark>" in html
    assert "<script>x()" not in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"

    html = signed_in(HOST, world.alice).get("/search/", {"q": "biotin"}).content.decode()
    assert "Hair loss" in html and "Closed room" in html


def test_every_partner_page_has_the_search_box(world):
    html = host_client(HOST).get(f"/c/{world.open.slug}/").content.decode()
    assert 'action="/search/"' in html and 'name="q"' in html


def test_page_with_filters_zero_results_and_hints(world):
    html = host_client(HOST).get("/search/", {"q": "biotin", "kind": "update"}).content.decode()
    assert "No posts match with these filters" in html
    assert "Remove the kind filter" in html
    html = host_client(HOST).get("/search/", {"q": "biotin", "kind": "nonsense"}).content.decode()
    assert "Ignored: kind" in html and "Hair loss" in html


@pytest.mark.parametrize("q", ['"unbalanced', "\x00", "x" * 10_000, "-only", "OR", "&|!():*"])
def test_page_and_api_never_fail_on_bad_queries(world, q):
    if "\x00" in q:
        # Refused at the edge for every parameter of every page (config.edge): a clear 400, not a 500.
        assert host_client(HOST).get("/search/", {"q": q}).status_code == 400
        response = host_client(HOST).get("/api/v1/search/", {"q": q})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        return
    assert host_client(HOST).get("/search/", {"q": q}).status_code == 200
    response = host_client(HOST).get("/api/v1/search/", {"q": q})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_tabs_trials_and_resources(world):
    response = host_client(HOST).get("/search/", {"q": "lupus", "tab": "trials"})
    assert response.status_code == 200
    assert 'aria-current="page">Trials' in response.content.decode()
    response = host_client(HOST).get("/search/", {"q": "lupus", "tab": "resources"})
    assert response.status_code == 200
    assert "No resource pages match." in response.content.decode()


def test_api_search_same_parameters(world):
    response = host_client(HOST).get("/api/v1/search/", {"q": "biotin", "community": "open-lupus"})
    assert response.status_code == 200
    data = response.json()
    assert data["total_topics"] == 1
    result = data["results"][0]
    assert result["topic"]["title"] == "Hair loss"
    assert result["topic"]["community"] == "open-lupus"
    post = result["posts"][0]
    assert post["is_opening"] is False
    assert post["snippet_html"].startswith("<mark>Biotin</mark>")
    assert "<script>" not in post["snippet_html"]
    assert post["url"] == f"/t/{world.public_topic.pk}/#post-{post['id']}"

    member_view = signed_in(HOST, world.alice).get("/api/v1/search/", {"q": "biotin", "sort": "newest"}).json()
    assert [r["topic"]["title"] for r in member_view["results"]] == ["Closed room", "Hair loss"]


def test_api_refuses_bad_filters_with_details(world):
    response = host_client(HOST).get("/api/v1/search/", {"q": "biotin", "after": "yesterday", "status": "x"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "search_invalid"
    assert set(body["details"]) == {"after", "status"}


def test_author_filter_by_the_id_on_this_site_web_and_api(world, tenant_b):
    alice_here = local_id_of(world.alice, tenant=world.tenant)
    alice = signed_in(HOST, world.alice)
    data = alice.get("/api/v1/search/", {"q": "biotin", "author": alice_here}).json()
    assert sorted(r["topic"]["title"] for r in data["results"]) == ["Closed room", "Hair loss"]
    assert {post["author_id"] for r in data["results"] for post in r["posts"]} == {alice_here}
    bob_here = local_id_of(world.bob, tenant=world.tenant)
    assert alice.get("/api/v1/search/", {"q": "biotin", "author": bob_here}).json()["results"] == []

    def refused(client, author):
        response = client.get("/api/v1/search/", {"q": "biotin", "author": author})
        assert response.status_code == 400, response.content
        body = response.json()
        return body["code"], body["details"]

    unknown = ("search_invalid", {"author": [UNKNOWN_AUTHOR]})
    # The global id is not the interface here: refused, with a message that says which id to use.
    assert refused(alice, str(world.alice.public_id)) == unknown
    # Alice's id on another partner (she is a member there too) names no one here, and her id here
    # names no one there: the same person, unlinkable across partners.
    TenantMembershipFactory(member=world.alice, tenant=tenant_b)
    on_b = local_id_of(world.alice, tenant=tenant_b)
    assert refused(alice, on_b) == unknown
    alice_on_b = signed_in(TENANT_B["domain"], world.alice)
    assert refused(alice_on_b, alice_here) == unknown
    found_on_b = alice_on_b.get("/api/v1/search/", {"q": "biotin", "author": on_b})
    assert found_on_b.status_code == 200 and found_on_b.json()["results"] == []

    # The page: each result offers the author's posts, the filter shows the name and comes off again.
    html = alice.get("/search/", {"q": "biotin"}).content.decode()
    assert f'href="/search/?q=biotin&amp;author={alice_here}">Posts by Alice</a>' in html
    html = alice.get("/search/", {"q": "biotin", "author": alice_here, "sort": "newest"}).content.decode()
    assert "Showing posts by <strong>Alice</strong>" in html
    assert 'href="/search/?q=biotin&amp;sort=newest">Remove the author filter</a>' in html
    assert f'<input type="checkbox" name="author" value="{alice_here}" checked> Only posts by Alice' in html
    assert "Hair loss" in html and "Closed room" in html
    assert "Posts by Alice</a>" not in html  # already filtered by her
    # A foreign id on the page: said and ignored, like any bad filter.
    html = alice.get("/search/", {"q": "biotin", "author": str(world.alice.public_id)}).content.decode()
    assert "Ignored: author (No member of this site has that id" in html and "Showing posts by" not in html
    assert str(world.alice.public_id) not in html  # not echoed back either


def test_other_partner_api_finds_nothing(world, tenant_b):
    with tenant_context(tenant_b):
        community_world(tenant=tenant_b, visibility=Visibility.OPEN)
    data = host_client(TENANT_B["domain"]).get("/api/v1/search/", {"q": "biotin"}).json()
    assert data["results"] == [] and data["total_topics"] == 0


def test_synonym_api_for_admins_only(world):
    url = "/api/v1/search/synonyms/"
    for who in ("alice", "moderator"):
        client = signed_in(HOST, getattr(world, who))
        assert client.get(url).status_code == 404
        assert client.post(url, {"terms": ["MTX", "methotrexate"]}, content_type="application/json").status_code == 404
    assert host_client(HOST).get(url).status_code in (401, 403)
    with tenant_context(world.tenant):
        assert SearchSynonym.objects.count() == 0

    admin = signed_in(HOST, world.admin)
    bad = admin.post(url, {"terms": ["MTX"]}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "synonym_too_few"
    created = admin.post(url, {"terms": ["biotin", "vitamin B7"]}, content_type="application/json")
    assert created.status_code == 201
    synonym_id = created.json()["id"]
    assert admin.get(url).json()[0]["terms"] == ["biotin", "vitamin B7"]

    with tenant_context(world.tenant):
        services.create_reply(
            acting_member=world.alice, tenant=world.tenant, topic=world.public_topic, body="Vitamin B7 daily."
        )
    data = host_client(HOST).get("/api/v1/search/", {"q": "vitamin b7"}).json()
    assert data["synonyms"] == [{"term": "vitamin b7", "also": ["biotin"]}]
    assert data["total_topics"] == 1 and data["results"][0]["match_count"] == 2  # "Biotin" and "Vitamin B7"

    changed = admin.put(f"{url}{synonym_id}/", {"terms": ["biotin", "B7"]}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["terms"] == ["biotin", "B7"]
    assert admin.delete(f"{url}{synonym_id}/").status_code == 204
    with tenant_context(world.tenant):
        assert SearchSynonym.objects.count() == 0


def test_synonym_management_page(world):
    assert signed_in(HOST, world.moderator).get("/manage/search/synonyms/").status_code == 404
    admin = signed_in(HOST, world.admin)
    assert "Search synonyms" in admin.get("/manage/").content.decode()
    response = admin.post("/manage/search/synonyms/", {"terms": "MTX, methotrexate, mtx"})
    assert response.status_code == 302
    with tenant_context(world.tenant):
        synonym = SearchSynonym.objects.get()
        assert synonym.terms == ["MTX", "methotrexate"]
    page = admin.get("/manage/search/synonyms/").content.decode()
    assert "MTX, methotrexate" in page
    response = admin.post("/manage/search/synonyms/", {"terms": "only-one"})
    assert response.status_code == 200 and "at least two" in response.content.decode()
    admin.post(f"/manage/search/synonyms/{synonym.pk}/", {f"s{synonym.pk}-terms": "MTX, Otrexup"})
    with tenant_context(world.tenant):
        assert SearchSynonym.objects.get().terms == ["MTX", "Otrexup"]
    admin.post(f"/manage/search/synonyms/{synonym.pk}/delete/")
    with tenant_context(world.tenant):
        assert not SearchSynonym.objects.exists()
