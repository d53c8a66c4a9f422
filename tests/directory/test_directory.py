from __future__ import annotations

import html
from io import StringIO

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from conditions.models import Condition
from core.errors import InvalidInput
from directory.models import DirectoryEntry
from directory.selectors import search_directory
from directory.services import (
    CommunityListing,
    publish_community,
    rebuild_directory_for_tenant,
    withdraw_community,
)
from tenants.db import use_public_schema
from tenants.models import Tenant, TenantKind
from tests.conftest import TENANT_A, TENANT_B, host_client
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

MULTIPLE_SCLEROSIS = "D009103"
RELAPSING_REMITTING_MS = "D020529"
SYSTEMIC_LUPUS = "D008180"

XSS_NAME = "<script>alert('name')</script>"
XSS_DESCRIPTION = '<img src=x onerror="alert(1)"><a href="javascript:alert(2)">click</a>'
API_KEYS = {"slug", "name", "description", "visibility", "conditions", "partner", "url", "updated_at"}


def _ids(*mesh_ids: str) -> list[int]:
    by_mesh = dict(Condition.objects.filter(mesh_id__in=mesh_ids).values_list("mesh_id", "pk"))
    return [by_mesh[mesh_id] for mesh_id in mesh_ids]


def _publish(tenant, slug, name, *, mesh_ids=(), description="", visibility="members"):
    return publish_community(
        tenant=tenant,
        community_slug=slug,
        name=name,
        description=description,
        condition_ids=_ids(*mesh_ids),
        visibility=visibility,
    )


def _found(entries) -> list[tuple[str, str]]:
    return [(entry.tenant.slug, entry.community_slug) for entry in entries]


@pytest.fixture
def listed(tenant_a, tenant_b):
    """Lupus communities at Alpha (one mentions symptoms), MS communities at Beta."""
    _publish(
        tenant_a,
        "lupus",
        "Lupus",
        mesh_ids=[SYSTEMIC_LUPUS],
        description="Share symptoms, flares and treatments.",
        visibility="open",
    )
    _publish(tenant_a, "caregivers", "Caregivers of people with lupus", description="For partners and parents.")
    _publish(tenant_b, "ms-talk", "MS Talk", mesh_ids=[MULTIPLE_SCLEROSIS], visibility="open")
    _publish(tenant_b, "rrms", "Relapsing together", mesh_ids=[RELAPSING_REMITTING_MS])


# --- services ---------------------------------------------------------------------------


def test_publish_creates_then_updates_one_entry_idempotently(tenant_a):
    first = _publish(tenant_a, "lupus", "Lupus", mesh_ids=[SYSTEMIC_LUPUS], description="Hello")
    again = _publish(tenant_a, "lupus", "Lupus", mesh_ids=[SYSTEMIC_LUPUS], description="Hello")

    assert again.pk == first.pk
    assert DirectoryEntry.objects.filter(tenant=tenant_a).count() == 1
    assert DirectoryEntry.objects.get(pk=first.pk).updated_at == first.updated_at  # no-op publish writes nothing

    changed = _publish(tenant_a, "lupus", "Lupus & friends", mesh_ids=[MULTIPLE_SCLEROSIS], visibility="open")
    changed.refresh_from_db()
    assert (changed.pk, changed.name, changed.description, changed.visibility) == (
        first.pk,
        "Lupus & friends",
        "",
        "open",
    )
    assert list(changed.conditions.values_list("mesh_id", flat=True)) == [MULTIPLE_SCLEROSIS]
    assert changed.updated_at > first.updated_at


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": "   "}, "invalid"),
        ({"community_slug": ""}, "invalid"),
        ({"visibility": "secret"}, "invalid"),
        ({"condition_ids": [987654321]}, "unknown_condition"),
    ],
)
def test_publish_rejects_bad_listings_and_changes_nothing(tenant_a, changes, code):
    entry = _publish(tenant_a, "lupus", "Lupus")
    arguments = {
        "tenant": tenant_a,
        "community_slug": "lupus",
        "name": "Renamed",
        "description": "",
        "condition_ids": [],
        "visibility": "open",
    } | changes
    with pytest.raises(InvalidInput) as raised:
        publish_community(**arguments)
    assert raised.value.code == code
    assert list(DirectoryEntry.objects.values_list("pk", "name", "visibility")) == [(entry.pk, "Lupus", "members")]


def test_only_partner_tenants_can_publish():
    platform = Tenant.objects.get(kind=TenantKind.PUBLIC)
    with pytest.raises(InvalidInput) as raised:
        _publish(platform, "x", "X")
    assert raised.value.code == "not_a_partner"
    assert not DirectoryEntry.objects.exists()


def test_withdraw_is_idempotent_and_touches_only_that_community(tenant_a, tenant_b, listed):
    withdraw_community(tenant=tenant_a, community_slug="lupus")
    withdraw_community(tenant=tenant_a, community_slug="lupus")
    withdraw_community(tenant=tenant_a, community_slug="never-listed")

    assert sorted(DirectoryEntry.objects.values_list("tenant__slug", "community_slug")) == [
        (TENANT_A["slug"], "caregivers"),
        (TENANT_B["slug"], "ms-talk"),
        (TENANT_B["slug"], "rrms"),
    ]
    assert search_directory(query="lupus") == search_directory(query="caregivers")


def test_withdrawn_communities_leave_search_page_and_api(root_client, tenant_b, listed):
    withdraw_community(tenant=tenant_b, community_slug="ms-talk")
    assert _found(search_directory(query="MS")) == [(TENANT_B["slug"], "rrms")]
    assert "MS Talk" not in root_client.get("/communities/?q=MS").content.decode()
    assert [item["slug"] for item in root_client.get("/api/v1/directory/?q=MS").json()] == ["rrms"]


def test_rebuild_replaces_a_tenants_entries_in_one_go(tenant_a, tenant_b, listed):
    lupus_id = _ids(SYSTEMIC_LUPUS)
    entries = rebuild_directory_for_tenant(
        tenant=tenant_a,
        entries=[
            CommunityListing(slug="lupus", name="Lupus (renamed)", description="", condition_ids=lupus_id),
            CommunityListing(slug="nephritis", name="Lupus nephritis", condition_ids=lupus_id, visibility="open"),
            CommunityListing(slug="hidden", name="Hidden", listed=False),
        ],
    )
    assert [entry.community_slug for entry in entries] == ["lupus", "nephritis"]
    assert sorted(DirectoryEntry.objects.filter(tenant=tenant_a).values_list("community_slug", "name")) == [
        ("lupus", "Lupus (renamed)"),
        ("nephritis", "Lupus nephritis"),
    ]
    assert DirectoryEntry.objects.filter(tenant=tenant_b).count() == 2


def test_rebuild_validates_everything_before_writing(tenant_a, listed):
    before = sorted(DirectoryEntry.objects.filter(tenant=tenant_a).values_list("community_slug", "name"))
    with pytest.raises(InvalidInput):
        rebuild_directory_for_tenant(
            tenant=tenant_a,
            entries=[
                CommunityListing(slug="new", name="New"),
                CommunityListing(slug="bad", name="Bad", visibility="x"),
            ],
        )
    assert sorted(DirectoryEntry.objects.filter(tenant=tenant_a).values_list("community_slug", "name")) == before


# --- search -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["MS", "ms", "D009103", "d009103", "multiple sclerosis", "Multiple-Sclerosis"])
def test_condition_queries_find_the_ms_societys_communities(listed, query):
    # "MS" must not match Alpha's lupus description ("symptoms") nor anything else of Alpha's.
    assert _found(search_directory(query=query)) == [(TENANT_B["slug"], "ms-talk"), (TENANT_B["slug"], "rrms")]


def test_synonym_finds_the_community(listed):
    assert _found(search_directory(query="disseminated sclerosis")) == [
        (TENANT_B["slug"], "ms-talk"),
        (TENANT_B["slug"], "rrms"),
    ]
    assert _found(search_directory(query="SLE")) == [(TENANT_A["slug"], "lupus")]


def test_searching_a_parent_condition_finds_communities_about_its_children_after_direct_ones(tenant_b, listed):
    # "D009103" names only Multiple Sclerosis; "Relapsing together" is tagged with its child condition.
    entries = search_directory(query=MULTIPLE_SCLEROSIS)
    assert [(entry.community_slug, entry.rank) for entry in entries] == [("ms-talk", 0), ("rrms", 1)]
    assert _found(search_directory(query=RELAPSING_REMITTING_MS)) == [(TENANT_B["slug"], "rrms")]


def test_name_and_description_search_ranks_condition_matches_first(tenant_a, listed):
    _publish(tenant_a, "lupus-news", "News", description="Research on lupus, explained.")
    assert _found(search_directory(query="caregivers")) == [(TENANT_A["slug"], "caregivers")]
    assert _found(search_directory(query="parents")) == [(TENANT_A["slug"], "caregivers")]
    # Tagged with lupus first, then the communities that only mention it, by name.
    assert _found(search_directory(query="lupus")) == [
        (TENANT_A["slug"], "lupus"),
        (TENANT_A["slug"], "caregivers"),
        (TENANT_A["slug"], "lupus-news"),
    ]
    assert search_directory(query="no such thing at all") == []


def test_condition_filter_includes_descendants(listed):
    ms_id = _ids(MULTIPLE_SCLEROSIS)
    assert _found(search_directory(condition_ids=ms_id)) == [(TENANT_B["slug"], "ms-talk"), (TENANT_B["slug"], "rrms")]
    assert _found(search_directory(condition_ids=_ids(RELAPSING_REMITTING_MS))) == [(TENANT_B["slug"], "rrms")]
    assert _found(search_directory(query="relapsing", condition_ids=ms_id)) == [(TENANT_B["slug"], "rrms")]
    assert search_directory(condition_ids=[987654321]) == []


def test_tenant_narrows_the_search_to_its_own_communities(tenant_a, tenant_b, listed):
    _publish(tenant_a, "ms-at-alpha", "MS friends of Alpha", mesh_ids=[MULTIPLE_SCLEROSIS])
    assert _found(search_directory(query="MS", tenant=tenant_a)) == [(TENANT_A["slug"], "ms-at-alpha")]
    assert len(search_directory(query="MS")) == 3
    assert {slug for slug, _ in _found(search_directory(tenant=tenant_b))} == {TENANT_B["slug"]}


def test_empty_query_lists_everything_by_name_within_the_limit(listed):
    assert [entry.name for entry in search_directory()] == [
        "Caregivers of people with lupus",
        "Lupus",
        "MS Talk",
        "Relapsing together",
    ]
    assert len(search_directory(limit=2)) == 2
    assert search_directory(limit=0) == []


def test_entries_of_non_partner_tenants_are_never_listed(listed):
    platform = Tenant.objects.get(kind=TenantKind.PUBLIC)
    DirectoryEntry.objects.create(tenant=platform, community_slug="staff", name="Staff MS room")
    assert "staff" not in [entry.community_slug for entry in search_directory(query="MS")]
    assert "staff" not in [entry.community_slug for entry in search_directory()]


# --- page and API -----------------------------------------------------------------------


def test_home_page_has_the_find_your_community_form(root_client):
    body = root_client.get("/").content.decode()
    assert '<form class="card directory-search" method="get" action="/communities/" role="search">' in body
    assert "Find your community" in body


def test_directory_page_shows_partner_conditions_visibility_and_link(root_client, listed):
    response = root_client.get("/communities/", {"q": "MS"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<a href="http://{TENANT_B["domain"]}/c/ms-talk/">MS Talk</a>' in body
    assert f'href="http://{TENANT_B["domain"]}/c/rrms/"' in body
    assert f"Run by {TENANT_B['name']}" in body
    assert '<span class="condition">Multiple Sclerosis, Relapsing-Remitting</span>' in body
    assert '<span class="badge visibility-open">Open</span>' in body
    assert '<span class="badge visibility-members">Members only</span>' in body
    assert TENANT_A["name"] not in body
    assert 'value="MS"' in body


def test_directory_link_keeps_the_requests_port(listed):
    # The test client sets SERVER_PORT per request, as a WSGI server does from the listening port.
    body = host_client("localhost:8000").get("/communities/?q=MS", SERVER_PORT="8000").content.decode()
    assert f"http://{TENANT_B['domain']}:8000/c/ms-talk/" in body


def test_api_returns_public_fields_only_with_partner_and_link(root_client, listed):
    response = root_client.get("/api/v1/directory/", {"q": "D009103"})
    assert response.status_code == 200
    items = response.json()
    assert [item["slug"] for item in items] == ["ms-talk", "rrms"]
    assert set(items[1]) == API_KEYS
    assert items[1]["partner"] == {"slug": TENANT_B["slug"], "name": TENANT_B["name"]}
    assert items[1]["url"] == f"http://{TENANT_B['domain']}/c/rrms/"
    assert items[1]["visibility"] == "members"
    assert [condition["mesh_id"] for condition in items[1]["conditions"]] == [RELAPSING_REMITTING_MS]


def test_api_filters_by_condition_and_rejects_bad_parameters(root_client, listed):
    lupus_id = _ids(SYSTEMIC_LUPUS)[0]
    assert [item["slug"] for item in root_client.get(f"/api/v1/directory/?condition={lupus_id}").json()] == ["lupus"]
    response = root_client.get("/api/v1/directory/?condition=lupus")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert root_client.get("/api/v1/directory/?limit=1000").status_code == 400


def test_api_is_only_on_the_root_domain_and_in_its_schema(root_client, client_a):
    assert client_a.get("/api/v1/directory/").status_code == 404
    assert "/api/v1/directory/" in root_client.get("/api/schema/").content.decode()


def test_user_text_is_escaped_on_the_page_and_plain_data_in_the_api(root_client, tenant_a):
    _publish(tenant_a, "xss", XSS_NAME, mesh_ids=[SYSTEMIC_LUPUS], description=XSS_DESCRIPTION)
    body = root_client.get("/communities/", {"q": "lupus"}).content.decode()
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert 'href="javascript:' not in body
    assert html.escape(XSS_NAME) in body
    assert html.escape(XSS_DESCRIPTION) in body

    response = root_client.get("/api/v1/directory/", {"q": "lupus"})
    assert response["Content-Type"] == "application/json"
    assert response.json()[0]["name"] == XSS_NAME  # data, not markup: clients must escape it as any text


def test_query_text_is_escaped_on_the_page(root_client):
    body = root_client.get("/communities/", {"q": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>alert(1)" not in body
    assert "&quot;&gt;&lt;script&gt;" in body


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_query_count_does_not_grow_with_results(root_client, tenant_a, tenant_b):
    condition_ids = _ids(SYSTEMIC_LUPUS, RELAPSING_REMITTING_MS)
    for index in range(2):
        for tenant in (tenant_a, tenant_b):
            publish_community(
                tenant=tenant,
                community_slug=f"c{index}",
                name=f"Lupus {index}",
                description="",
                condition_ids=condition_ids,
                visibility="open",
            )
    paths = ("/communities/?q=lupus", "/api/v1/directory/?q=lupus")
    for path in paths:
        root_client.get(path)  # warm the host-routing cache, so both counts are of warm requests
    few = {path: _queries(root_client, path) for path in paths}
    for index in range(2, 12):
        for tenant in (tenant_a, tenant_b):
            publish_community(
                tenant=tenant,
                community_slug=f"c{index}",
                name=f"Lupus {index}",
                description="",
                condition_ids=condition_ids,
                visibility="open",
            )
    assert len(search_directory(query="lupus")) == 24
    many = {path: _queries(root_client, path) for path in few}
    assert many == few
    with CaptureQueriesContext(connection) as captured:
        entries = search_directory(query="lupus")
        [(entry.tenant.name, list(entry.conditions.all()), entry.tenant.primary_domains) for entry in entries]
    assert len(captured) == 5  # taxonomy match, descendants, entries+tenants, primary domains, conditions


# --- rebuild command --------------------------------------------------------------------


@pytest.fixture
def alpha_communities(tenant_a):
    with tenant_context(tenant_a):
        lupus = CommunityFactory(
            slug="lupus",
            name="Lupus",
            description="Living with lupus.",
            rules="SECRET-RULE: no names of doctors",
            visibility="members",
        )
        lupus.conditions.set(_ids(SYSTEMIC_LUPUS))
        CommunityFactory(slug="open-chat", name="Open chat", visibility="open")
        CommunityFactory(slug="unlisted", name="Unlisted circle", listed_in_directory=False)
    use_public_schema()


def test_rebuild_command_reproduces_entries_from_tenant_communities(root_client, tenant_a, tenant_b, alpha_communities):
    _publish(tenant_a, "stale", "Deleted long ago")
    _publish(tenant_b, "ms-talk", "MS Talk", mesh_ids=[MULTIPLE_SCLEROSIS])

    call_command("rebuild_directory", "--tenant", TENANT_A["slug"], stdout=StringIO())

    rows = DirectoryEntry.objects.filter(tenant=tenant_a).order_by("community_slug")
    assert [(row.community_slug, row.name, row.description, row.visibility) for row in rows] == [
        ("lupus", "Lupus", "Living with lupus.", "members"),
        ("open-chat", "Open chat", "A place to talk.", "open"),
    ]
    assert list(rows[0].conditions.values_list("mesh_id", flat=True)) == [SYSTEMIC_LUPUS]
    assert DirectoryEntry.objects.filter(tenant=tenant_b).count() == 1  # other tenants untouched

    # A members-only community shows its name, description and conditions, and nothing else.
    body = root_client.get("/communities/?q=lupus").content.decode()
    assert "Living with lupus." in body
    assert "SECRET-RULE" not in body
    api = root_client.get("/api/v1/directory/?q=lupus").json()
    assert [set(item) for item in api] == [API_KEYS]
    assert "SECRET-RULE" not in str(api)

    call_command("rebuild_directory", stdout=StringIO())
    assert not DirectoryEntry.objects.filter(tenant=tenant_b).exists()  # Beta has no communities
    assert DirectoryEntry.objects.filter(tenant=tenant_a).count() == 2


def test_rebuild_command_lives_with_the_tenant_app_it_reads():
    # directory is public and imports no tenant app; the command that reads communities is theirs.
    assert get_commands()["rebuild_directory"] == "communities"


def test_rebuild_command_rejects_unknown_tenants(tenant_a):
    with pytest.raises(CommandError):
        call_command("rebuild_directory", "--tenant", "nobody")


@pytest.mark.parametrize("query", [".*", "(((", "lup.s", "%lupus%", "lupus\\", "***:lupus", "[a-z]+"])
def test_query_text_is_literal_never_a_pattern(tenant_a, listed, query):
    _publish(tenant_a, "odd", "Odd [a-z]+ name")
    found = [entry.community_slug for entry in search_directory(query=query)]
    assert found == (["odd"] if query == "[a-z]+" else [])
