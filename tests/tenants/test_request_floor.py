"""The floor of a signed-in request: routing, session and member in at most 2 queries.

The host → tenant route comes from the cache (tenants/routing.py) and the backend skips a
``SET search_path`` the connection already has (config/postgresql_backend), so a signed-in request
to a trivial view reads only the session and the member. Every write to a tenant or a domain drops
the cached routes: a moved domain, a new one and a read-only switch take effect on the next request.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.models import Tenant
from tenants.services import add_domain, set_tenant_read_only
from tests.conftest import TENANT_A, host_client, signed_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _queries(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return [query["sql"] for query in captured.captured_queries]


def test_a_signed_in_request_costs_at_most_two_queries(tenant_a):
    member = MemberFactory()
    client = signed_in(TENANT_A["domain"], member)
    client.get("/healthz/")  # routes the host once and selects the schema on this connection

    queries = _queries(client, "/healthz/")

    assert len(queries) <= 2, queries
    assert not any("search_path" in sql for sql in queries), queries
    assert not any("tenants_domain" in sql for sql in queries), queries
    # It is signed in: the session and its member were read.
    assert any("django_session" in sql for sql in queries), queries
    assert any("members_member" in sql for sql in queries), queries


def test_switching_tenants_sets_the_search_path_once(tenant_a, tenant_b):
    member = MemberFactory()
    client_a = signed_in(TENANT_A["domain"], member)
    client_b = host_client("beta-society.localhost")
    client_a.get("/healthz/")
    client_b.get("/healthz/")

    queries = _queries(client_a, "/healthz/")

    assert [sql for sql in queries if "search_path" in sql] == ['SET search_path = "alpha_alliance","public"']
    assert len(queries) <= 3, queries


def test_a_new_domain_routes_at_once_and_a_removed_one_stops(tenant_a):
    assert host_client("alpha-custom.example.org").get("/healthz/").status_code == 404  # cached as unknown
    domain = add_domain(tenant=tenant_a, domain="alpha-custom.example.org")
    assert host_client("alpha-custom.example.org").get("/healthz/").status_code == 200

    domain.delete()
    assert host_client("alpha-custom.example.org").get("/healthz/").status_code == 404


def test_a_renamed_domain_moves_with_its_row(tenant_a):
    domain = add_domain(tenant=tenant_a, domain="alpha-old.example.org")
    assert host_client("alpha-old.example.org").get("/healthz/").status_code == 200
    domain.domain = "alpha-new.example.org"
    domain.save()
    assert host_client("alpha-old.example.org").get("/healthz/").status_code == 404
    assert host_client("alpha-new.example.org").get("/healthz/").status_code == 200


def test_a_read_only_switch_is_seen_by_the_next_request(tenant_a):
    member = MemberFactory()
    client = signed_in(TENANT_A["domain"], member)
    client.get("/healthz/")
    set_tenant_read_only(tenant=Tenant.objects.get(pk=tenant_a.pk), read_only=True)
    response = client.post("/api/v1/communities/", {"name": "New"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "tenant_read_only"
