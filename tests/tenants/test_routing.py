from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from communities.models import Community, Visibility
from tenants.db import current_schema_name, use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import CommunityFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_root_domain_serves_the_platform_and_links_every_partner(root_client, tenant_a, tenant_b):
    response = root_client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Find your people" in body
    assert f"http://{TENANT_A['domain']}/" in body
    assert f"http://{TENANT_B['domain']}/" in body
    assert "tenant-template" not in body


def test_each_partner_host_routes_to_its_own_schema(client_a, client_b):
    assert TENANT_A["name"] in client_a.get("/").content.decode()
    assert TENANT_B["name"] in client_b.get("/").content.decode()
    assert current_schema_name() == "beta_society"


def test_unknown_and_template_hosts_get_404_not_the_public_site(db):
    assert host_client("nobody.localhost").get("/").status_code == 404
    assert host_client("tenant-template.localhost").get("/").status_code == 404
    assert host_client("evil.example.com").get("/accounts/signup/").status_code == 404


def test_host_header_port_and_case_are_normalized(tenant_a):
    response = host_client(TENANT_A["domain"].upper() + ":8000").get("/")
    assert response.status_code == 200
    assert TENANT_A["name"] in response.content.decode()


def test_tenant_pages_are_not_for_search_engines(client_a):
    assert '<meta name="robots" content="noindex, nofollow">' in client_a.get("/").content.decode()


class TestTenantIsolation:
    """A row written in tenant A can't be read through any URL on tenant B."""

    @pytest.fixture
    def secret_community(self, tenant_a):
        with tenant_context(tenant_a):
            community = CommunityFactory(name="Alpha private circle", slug="alpha-private", visibility=Visibility.OPEN)
        use_public_schema()
        return community

    def test_visible_on_a(self, client_a, secret_community):
        assert "Alpha private circle" in client_a.get("/").content.decode()
        assert client_a.get("/c/alpha-private/").status_code == 200
        assert client_a.get("/api/v1/communities/alpha-private/").json()["name"] == "Alpha private circle"

    @pytest.mark.parametrize(
        "path",
        ["/", "/c/alpha-private/", "/api/v1/communities/", "/api/v1/communities/alpha-private/", "/pages/"],
    )
    def test_invisible_on_b_anonymous(self, client_b, secret_community, path):
        response = client_b.get(path)
        assert "Alpha private circle" not in response.content.decode()
        assert "alpha-private" not in response.content.decode() or path.endswith("alpha-private/")

    @pytest.mark.parametrize("path", ["/c/alpha-private/", "/api/v1/communities/alpha-private/"])
    def test_b_returns_404_even_for_a_superuser(self, tenant_b, secret_community, path):
        staff = MemberFactory(is_staff=True, is_superuser=True)
        client = signed_in(TENANT_B["domain"], staff)
        assert client.get(path).status_code == 404
        assert "Alpha private circle" not in client.get("/api/v1/communities/").content.decode()

    def test_schema_b_has_no_such_row(self, tenant_b, secret_community):
        with tenant_context(tenant_b):
            assert not Community.objects.filter(slug="alpha-private").exists()


def test_partner_resource_pages_render_in_the_partners_brand(tenant_a, client_a):
    from wagtail.models import Site

    from cms.models import ResourcePage

    with tenant_context(tenant_a):
        home = Site.objects.get(is_default_site=True).root_page
        page = home.add_child(instance=ResourcePage(title="Living with lupus", slug="living", summary="A guide"))
        page.save_revision().publish()
        url = page.get_url()
    response = client_a.get(url)
    assert response.status_code == 200
    assert "Living with lupus" in response.content.decode()
    assert TENANT_A["name"] in response.content.decode()
    assert host_client(TENANT_B["domain"]).get(url).status_code == 404
