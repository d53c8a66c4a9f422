"""Issue 14, points 1 and 5: each tenant has its own Wagtail page tree, admin, search and media; one
tenant's pages and files are never reachable through another's domain."""

from __future__ import annotations

import io

import pytest
from django.core.files.images import ImageFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django_tenants.utils import tenant_context
from PIL import Image as PILImage
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.models import Page, Site

from access.services import sync_member_role_groups
from cms.models import CommunityHomePage, ResourceIndexPage, ResourcePage
from cms.selectors import home_page
from members.models import MembershipRole
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import MemberFactory, ResourcePageFactory, TenantMembershipFactory

pytestmark = pytest.mark.django_db

HOST_A, HOST_B = TENANT_A["domain"], TENANT_B["domain"]


def _admin_of(tenant):
    member = MemberFactory()
    TenantMembershipFactory(member=member, tenant=tenant, role=MembershipRole.ADMIN)
    with tenant_context(tenant):
        sync_member_role_groups(member_id=member.pk, role=MembershipRole.ADMIN)
    use_public_schema()
    return member


def _png():
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4), (200, 30, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def pages(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        library_a = ResourceIndexPage.objects.get()
        resource_a = ResourcePageFactory(parent=library_a, title="Alpha fatigue guide", slug="alpha-fatigue")
    with tenant_context(tenant_b):
        library_b = ResourceIndexPage.objects.get()
        resource_b = ResourcePageFactory(parent=library_b, title="Beta walking aids", slug="beta-walking")
    use_public_schema()
    return type("Pages", (), {"a": resource_a, "b": resource_b})


def test_provisioning_gives_each_tenant_its_own_home_page_and_library(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            site = Site.objects.get(is_default_site=True)
            home = site.root_page.specific
            assert isinstance(home, CommunityHomePage)
            assert home.title == tenant.name and home.live
            assert site.site_name == tenant.name
            assert ResourceIndexPage.objects.child_of(home).live().count() == 1
            # Wagtail's placeholder is gone.
            assert not Page.objects.filter(title__startswith="Welcome to your new Wagtail site").exists()
    use_public_schema()


def test_pages_root_shows_the_partner_home_not_wagtails_welcome(tenant_a):
    response = host_client(HOST_A).get("/pages/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Welcome to your new Wagtail site" not in text
    assert TENANT_A["name"] in text
    assert "Upcoming expert sessions" in text


def test_a_resource_page_is_served_only_on_its_own_tenant(pages):
    a, b = host_client(HOST_A), host_client(HOST_B)
    response = a.get("/pages/resources/alpha-fatigue/")
    assert response.status_code == 200
    assert "Alpha fatigue guide" in response.content.decode()
    assert "Reviewed" in response.content.decode() and "Dr Test Reviewer" in response.content.decode()
    assert b.get("/pages/resources/alpha-fatigue/").status_code == 404
    assert a.get("/pages/resources/beta-walking/").status_code == 404
    # The API of each host lists only its own resources.
    titles_a = [r["title"] for r in a.get("/api/v1/resources/").json()["results"]]
    titles_b = [r["title"] for r in b.get("/api/v1/resources/").json()["results"]]
    assert "Alpha fatigue guide" in titles_a and "Beta walking aids" not in titles_a
    assert "Beta walking aids" in titles_b and "Alpha fatigue guide" not in titles_b
    other = b.get(f"/api/v1/resources/{pages.a.pk}/")
    assert other.status_code == 404 or other.json()["title"] != "Alpha fatigue guide"


def test_wagtail_admin_shows_only_the_tenants_pages_under_its_name(pages, tenant_a, tenant_b):
    admin_a = _admin_of(tenant_a)
    client = signed_in(HOST_A, admin_a)
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    text = dashboard.content.decode()
    assert TENANT_A["name"] in text
    assert "Welcome to the Kindred Wagtail CMS" not in text
    with tenant_context(tenant_a):
        library_id = ResourceIndexPage.objects.get().pk
    use_public_schema()
    listing = client.get(f"/admin/pages/{library_id}/")
    assert listing.status_code == 200
    assert "Alpha fatigue guide" in listing.content.decode()
    assert "Beta walking aids" not in listing.content.decode()
    # Wagtail's admin search looks in this tenant's index only.
    found = client.get("/admin/pages/search/", {"q": "walking"})
    assert found.status_code == 200 and "Beta walking aids" not in found.content.decode()
    found = client.get("/admin/pages/search/", {"q": "fatigue"})
    assert "Alpha fatigue guide" in found.content.decode()
    # An admin of A is nobody in B's admin.
    other = signed_in(HOST_B, admin_a)
    assert other.get("/admin/").status_code in (302, 403)


def test_wagtail_search_index_is_per_tenant(pages, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        assert [p.title for p in ResourcePage.objects.live().search("walking")] == []
        assert [p.title for p in ResourcePage.objects.live().search("fatigue")] == ["Alpha fatigue guide"]
    with tenant_context(tenant_b):
        assert [p.title for p in ResourcePage.objects.live().search("fatigue")] == []
        assert [p.title for p in ResourcePage.objects.live().search("walking")] == ["Beta walking aids"]
    use_public_schema()


@pytest.fixture
def image_a(tenant_a):
    with tenant_context(tenant_a):
        image = Image.objects.create(title="Alpha logo", file=ImageFile(io.BytesIO(_png()), name="alpha-logo.png"))
        name = image.file.name
        url = image.file.url
        document = Document.objects.create(
            title="Alpha leaflet", file=ImageFile(io.BytesIO(b"%PDF-1.4 leaflet"), name="alpha-leaflet.pdf")
        )
        document_name = document.file.name
    use_public_schema()
    yield type("Media", (), {"url": url, "name": name, "document_name": document_name, "document_id": document.pk})
    with tenant_context(tenant_a):
        default_storage.delete(name)
        default_storage.delete(document_name)
    use_public_schema()


def test_media_is_stored_under_the_tenant_and_served_only_on_its_domain(image_a, tenant_a):
    assert image_a.url.startswith(f"/media/{tenant_a.schema_name}/")
    a, b = host_client(HOST_A), host_client(HOST_B)
    response = a.get(image_a.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    # The same path through the other partner's domain: never served.
    assert b.get(image_a.url).status_code == 404
    # Nor with B's folder name on A's file path, nor climbing out of the folder.
    relative = image_a.url.removeprefix(f"/media/{tenant_a.schema_name}/")
    assert b.get(f"/media/{TENANT_B['slug'].replace('-', '_')}/{relative}").status_code == 404
    assert b.get(f"/media/{TENANT_B['slug'].replace('-', '_')}/../{tenant_a.schema_name}/{relative}").status_code == 404
    # Document files are only served through Wagtail's document view (which checks privacy).
    assert a.get(f"/media/{tenant_a.schema_name}/{image_a.document_name}").status_code == 404
    assert a.get(f"/documents/{image_a.document_id}/alpha-leaflet.pdf").status_code == 200
    assert b.get(f"/documents/{image_a.document_id}/alpha-leaflet.pdf").status_code == 404


def test_wagtail_admin_image_library_is_per_tenant(image_a, tenant_a, tenant_b):
    admin_b = _admin_of(tenant_b)
    response = signed_in(HOST_B, admin_b).get("/admin/images/")
    assert response.status_code == 200
    assert "Alpha logo" not in response.content.decode()
    admin_a = _admin_of(tenant_a)
    response = signed_in(HOST_A, admin_a).get("/admin/images/")
    assert "Alpha logo" in response.content.decode()


def test_home_page_helper_finds_each_tenants_home(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        assert home_page().title == TENANT_A["name"]
    with tenant_context(tenant_b):
        assert home_page().title == TENANT_B["name"]
    use_public_schema()


def test_existing_tenants_get_a_home_page_from_the_command(tenant_a, tenant_b):
    """A tenant provisioned before the CMS pages existed has Wagtail's welcome page as its root."""
    with tenant_context(tenant_a):
        root = Page.get_first_root_node()
        welcome = root.add_child(instance=Page(title="Welcome to your new Wagtail site!", slug="welcome"))
        old_home = Site.objects.get(is_default_site=True).root_page
        Site.objects.filter(is_default_site=True).update(root_page=welcome)
        Page.objects.get(pk=old_home.pk).delete()
        ResourcePageFactory(parent=welcome, title="Old guide", slug="old-guide")
    use_public_schema()
    assert "Welcome to your new Wagtail site" in host_client(HOST_A).get("/pages/").content.decode()
    call_command("ensure_home_pages", stdout=io.StringIO())
    with tenant_context(tenant_a):
        home = Site.objects.get(is_default_site=True).root_page.specific
        assert isinstance(home, CommunityHomePage)
        assert not Page.objects.filter(slug="welcome").exists()
        assert ResourcePage.objects.get(slug="old-guide").get_parent().pk == home.pk
    use_public_schema()
    assert "Welcome to your new Wagtail site" not in host_client(HOST_A).get("/pages/").content.decode()
    assert host_client(HOST_A).get("/pages/old-guide/").status_code == 200


def test_admin_edit_forms_of_every_page_type_open(pages, tenant_a):
    """The tenant admin's Wagtail editor opens each page type (the browser journeys publish from here)."""
    client = signed_in(HOST_A, _admin_of(tenant_a))
    with tenant_context(tenant_a):
        home = home_page()
        library = ResourceIndexPage.objects.get()
        edits = [home.pk, library.pk, pages.a.pk]
    use_public_schema()
    for page_id in edits:
        response = client.get(f"/admin/pages/{page_id}/edit/")
        assert response.status_code == 200, page_id
    for model, parent in (("resourcepage", library.pk), ("expertsessionpage", home.pk)):
        response = client.get(f"/admin/pages/add/cms/{model}/{parent}/")
        assert response.status_code == 200, model
    edit = client.get(f"/admin/pages/{pages.a.pk}/edit/").content.decode()
    assert "Reviewed by" in edit or "reviewed_by" in edit
