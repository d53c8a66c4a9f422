"""Platform staff provision tenants from the root-domain admin and the API; nobody else can."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_exists

from tenants.models import Domain, Tenant
from tests.conftest import TENANT_A, host_client, signed_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

NEW = {"name": "Kappa Kidney Network", "slug": "kappa-kidney", "domain": "kappa-kidney.localhost", "tagline": ""}
# The form also names the partner's first admin (invited by email; tests/partnerships covers the invitation).
ADMIN_FORM = {**NEW, "first_admin_email": "first-admin@kappa.test"}


@pytest.fixture
def staff():
    return MemberFactory(is_staff=True, is_superuser=True)


def test_staff_provision_a_tenant_in_the_django_admin(staff):
    client = signed_in("localhost", staff)
    form = client.get("/admin/tenants/tenant/add/")
    assert form.status_code == 200
    assert 'name="domain"' in form.content.decode()
    response = client.post("/admin/tenants/tenant/add/", ADMIN_FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(slug="kappa-kidney")
    assert schema_exists(tenant.schema_name)
    assert tenant.primary_domain == "kappa-kidney.localhost"
    assert "Kappa Kidney Network" in host_client("kappa-kidney.localhost").get("/").content.decode()


def test_admin_form_shows_clear_errors_and_creates_nothing(staff):
    client = signed_in("localhost", staff)
    before = (Tenant.objects.count(), Domain.objects.count())
    response = client.post("/admin/tenants/tenant/add/", {**ADMIN_FORM, "slug": "admin", "domain": TENANT_A["domain"]})
    assert response.status_code == 200
    body = response.content.decode()
    assert "reserved for the platform" in body
    assert "already routes to a tenant" in body
    assert (Tenant.objects.count(), Domain.objects.count()) == before


def test_template_tenant_is_hidden_from_the_admin_list(staff):
    body = signed_in("localhost", staff).get("/admin/tenants/tenant/").content.decode()
    assert TENANT_A["name"] in body
    assert "Tenant template" not in body


def test_api_provisioning_is_for_platform_superusers_only(staff, tenant_a):
    before = Tenant.objects.count()
    tenant_admin = MemberFactory(is_staff=False)
    for client, refused in ((host_client("localhost"), 401), (signed_in("localhost", tenant_admin), 403)):
        assert client.post("/api/v1/tenants/", NEW, content_type="application/json").status_code == refused
    # The provisioning endpoint does not exist on tenant hosts at all.
    assert signed_in(TENANT_A["domain"], staff).post("/api/v1/tenants/", NEW).status_code == 404
    assert Tenant.objects.count() == before

    client = signed_in("localhost", staff)
    created = client.post("/api/v1/tenants/", NEW, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["url"] == "http://kappa-kidney.localhost/"
    again = client.post("/api/v1/tenants/", NEW, content_type="application/json")
    assert again.status_code == 200
    bad = client.post("/api/v1/tenants/", {**NEW, "slug": "www"}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert "slug" in bad.json()["details"]


def test_partner_directory_is_public_and_lists_only_partners(tenant_a, tenant_b):
    response = host_client("localhost").get("/api/v1/partners/")
    assert response.status_code == 200
    slugs = [partner["slug"] for partner in response.json()]
    assert TENANT_A["slug"] in slugs
    assert "tenant-template" not in slugs
    assert "platform" not in slugs


@pytest.mark.parametrize("host", ["localhost", TENANT_A["domain"]])
def test_openapi_schema_describes_the_api_on_each_host(tenant_a, host):
    response = host_client(host).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert all(path.startswith("/api/v1/") for path in paths)
    expected = (
        {"/api/v1/auth/signup/", "/api/v1/me/", "/api/v1/partners/", "/api/v1/tenants/"}
        if host == "localhost"
        else {"/api/v1/me/", "/api/v1/membership/", "/api/v1/members/", "/api/v1/members/{member_id}/role/",
              "/api/v1/communities/", "/api/v1/communities/{slug}/"}
    )  # fmt: skip
    assert expected <= set(paths)
