"""Paging is one convention (issue 17): every paged list takes a documented `limit`, and a cursor or
offset; a bad limit, offset or cursor is a 400 naming the parameter, never a silent first page."""

from __future__ import annotations

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

from tests.conftest import TENANT_A, host_client

pytestmark = pytest.mark.django_db

ROOT = settings.ROOT_DOMAIN
TENANT = TENANT_A["domain"]
PAGED = [
    (ROOT, "/api/v1/trials/"),
    (TENANT, "/api/v1/trials/"),
    (TENANT, "/api/v1/feed/"),
    (ROOT, "/api/v1/directory/"),
]


@pytest.fixture
def community(tenant_a):
    from django_tenants.utils import tenant_context

    from communities.models import Visibility
    from tests.factories import CommunityFactory

    with tenant_context(tenant_a):
        return CommunityFactory(slug="open-circle", visibility=Visibility.OPEN)


@pytest.mark.parametrize(("host", "path"), [*PAGED, (TENANT, "/api/v1/communities/open-circle/topics/")])
@pytest.mark.parametrize("limit", ["0", "-1", "101", "ten", "1.5", "99999999999"])
def test_bad_limit_is_a_400_naming_it(community, host, path, limit):
    response = host_client(host).get(path, {"limit": limit})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["details"]) == ["limit"]


@pytest.mark.parametrize("offset", ["-1", "x", "10001"])
def test_bad_offset_is_a_400(tenant_a, offset):
    response = host_client(ROOT).get("/api/v1/trials/", {"offset": offset})
    assert (response.status_code, list(response.json()["details"])) == (400, ["offset"])


@pytest.mark.parametrize("path", ["/api/v1/feed/", "/api/v1/communities/open-circle/topics/"])
@pytest.mark.parametrize("cursor", ["garbage", "%%%", "W10", "eyJhIjogMX0"])
def test_malformed_cursor_is_a_400_not_the_first_page(community, path, cursor):
    response = host_client(TENANT).get(path, {"cursor": cursor})
    assert response.status_code == 400, response.content
    assert list(response.json()["details"]) == ["cursor"]


@pytest.mark.parametrize("path", ["/", "/c/open-circle/"])
def test_web_pages_with_a_stale_cursor_show_the_first_page(community, path):
    assert host_client(TENANT).get(path, {"cursor": "garbage"}).status_code == 200


def test_good_limits_work(community):
    assert host_client(TENANT).get("/api/v1/feed/", {"limit": "1"}).status_code == 200
    assert host_client(ROOT).get("/api/v1/trials/", {"limit": "100", "offset": "10000"}).status_code == 200


@pytest.mark.parametrize("urlconf", ["config.urls_public", "config.urls_tenant"])
def test_every_paged_list_documents_its_limit(urlconf):
    schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for operation in item.values():
            names = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
            if "cursor" in names or "offset" in names:
                assert "limit" in names, path
                assert "1 to" in names["limit"]["description"], path
