"""A tenant admin changes their own theme on /manage/theme/ and through the API; the theme reaches
every page of that tenant at once (and no other tenant's); bad colours and files are refused."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django_tenants.utils import tenant_context
from PIL import Image

from core.errors import InvalidInput, NotAllowed
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import community_world
from themes.models import Theme
from themes.services import update_theme

pytestmark = pytest.mark.django_db
HOST_A = TENANT_A["domain"]
HOST_B = TENANT_B["domain"]
API = "/api/v1/theme/"


def _put_file(client, url, upload):
    return client.put(url, encode_multipart(BOUNDARY, {"file": upload}), content_type=MULTIPART_CONTENT)


def _png(size: tuple[int, int] = (120, 40), colour: str = "#336699", fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def world(tenant_a, tenant_b, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with tenant_context(tenant_a):
        w = community_world(tenant=tenant_a)
    use_public_schema()
    w.tenant_b = tenant_b
    return w


def test_admin_changes_colours_on_the_web_page_and_every_page_shows_them_at_once(world, tenant_a, tenant_b):
    before_b = host_client(HOST_B).get("/").content.decode()
    admin = signed_in(HOST_A, world.admin)
    page = admin.get("/manage/theme/")
    assert page.status_code == 200
    assert "Contrast of the current theme" in page.content.decode()
    response = admin.post(
        "/manage/theme/",
        {
            "primary_colour": "#5b3a8c",
            "secondary_colour": "#1d4e6e",
            "accent_colour": "#9c4f0c",
            "background_colour": "#ffffff",
            "font_family": "Verdana, Geneva, sans-serif",
            "logo_text": "Alpha",
            "welcome_text": "Welcome, friend.",
        },
    )
    assert response.status_code == 302
    # The very next page load, by anyone, on any page of the tenant: no cache to wait for.
    home = host_client(HOST_A).get("/").content.decode()
    assert "--brand: #5b3a8c;" in home
    assert "--font: Verdana, Geneva, sans-serif;" in home
    assert "Welcome, friend." in home
    assert "--brand: #5b3a8c;" in signed_in(HOST_A, world.alice).get("/search/").content.decode()
    # The other tenant is unchanged.
    assert host_client(HOST_B).get("/").content.decode() == before_b
    assert "#5b3a8c" not in before_b


def test_failing_colours_are_refused_with_ratio_and_fix(world, tenant_a):
    theme_before = Theme.objects.get(tenant=tenant_a)
    admin = signed_in(HOST_A, world.admin)
    response = admin.post(
        "/manage/theme/",
        {
            "primary_colour": "#2f5d8a",
            "secondary_colour": "#3b6e4f",
            "accent_colour": "#e07a5f",
            "background_colour": "#fbfaf7",
            "font_family": "system-ui, sans-serif",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "2.95:1" in text and "4.5:1" in text and "Try #" in text
    assert Theme.objects.get(tenant=tenant_a).accent_colour == theme_before.accent_colour

    api = admin.patch(API, {"accent_colour": "#e07a5f"}, content_type="application/json")
    assert api.status_code == 400
    body = api.json()
    assert body["code"] == "theme_contrast"
    assert "2.95:1" in body["details"]["accent_colour"][0]
    assert "Try #" in body["details"]["accent_colour"][0]


def test_api_reads_and_changes_the_theme(world, tenant_a):
    admin = signed_in(HOST_A, world.admin)
    read = admin.get(API)
    assert read.status_code == 200
    assert {check["passes"] for check in read.json()["contrast"]} == {True}
    changed = admin.patch(
        API,
        {"primary_colour": "#0F5C8C", "font_family": "Georgia, Times New Roman, serif"},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["primary_colour"] == "#0f5c8c"
    assert Theme.objects.get(tenant=tenant_a).primary_colour == "#0f5c8c"
    bad_font = admin.patch(API, {"font_family": "Comic Sans; } body { display:none"}, content_type="application/json")
    assert bad_font.status_code == 400
    assert bad_font.json()["code"] == "invalid"


def test_only_the_tenants_admins_may_change_it(world, tenant_a):
    before = Theme.objects.get(tenant=tenant_a).primary_colour
    for person in (world.moderator, world.alice):
        client = signed_in(HOST_A, person)
        assert client.get("/manage/theme/").status_code == 404
        assert client.patch(API, {"primary_colour": "#000000"}, content_type="application/json").status_code == 403
    assert host_client(HOST_A).get("/manage/theme/").status_code == 302
    assert host_client(HOST_A).get(API).status_code == 401
    # An admin of A is nobody on B.
    assert signed_in(HOST_B, world.admin).get("/manage/theme/").status_code in {302, 404}
    with pytest.raises(NotAllowed):
        update_theme(acting_member=world.alice, tenant=tenant_a, changes={"primary_colour": "#000000"})
    assert Theme.objects.get(tenant=tenant_a).primary_colour == before


def test_logo_and_favicon_uploads_are_checked_reencoded_and_served_per_tenant(world, tenant_a, tenant_b):
    admin = signed_in(HOST_A, world.admin)
    upload = _put_file(admin, API + "logo/", SimpleUploadedFile("logo.jpg", _png(fmt="JPEG"), "image/jpeg"))
    assert upload.status_code == 200, upload.content
    logo_url = upload.json()["logo_url"]
    assert logo_url.startswith("/theme/logo/?v=")
    served = host_client(HOST_A).get(logo_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    # B's host never serves A's logo; B has none.
    assert host_client(HOST_B).get("/theme/logo/").status_code == 404
    theme = Theme.objects.get(tenant=tenant_a)
    assert theme.logo.name.startswith(f"{tenant_a.schema_name}/logo-")
    home = host_client(HOST_A).get("/").content.decode()
    assert f'src="/theme/logo/?v={theme.version}"' in home

    favicon = _put_file(admin, API + "favicon/", SimpleUploadedFile("f.png", _png((64, 64)), "image/png"))
    assert favicon.status_code == 200
    assert 'rel="icon"' in host_client(HOST_A).get("/").content.decode()

    for name, content, code in (
        ("evil.svg", b"<svg onload='alert(1)'></svg>", 400),
        ("fake.png", b"not an image at all", 400),
        ("wide.png", _png((300, 40)), 400),  # a favicon must be square
    ):
        refused = _put_file(admin, API + "favicon/", SimpleUploadedFile(name, content, "image/png"))
        assert refused.status_code == code
        assert refused.json()["code"] == "theme_image_invalid"
    big = _put_file(admin, API + "logo/", SimpleUploadedFile("big.png", b"0" * (1024 * 1024 + 1), "image/png"))
    assert big.status_code in {400, 413}

    removed = admin.delete(API + "logo/")
    assert removed.status_code == 200 and removed.json()["logo_url"] is None
    assert host_client(HOST_A).get("/theme/logo/").status_code == 404


def test_root_lists_partners_with_their_logos(world, tenant_a, root_client):
    tenant_a.listed = True
    tenant_a.save(update_fields=["listed"])
    update_theme(
        acting_member=world.admin,
        tenant=tenant_a,
        changes={},
        logo=SimpleUploadedFile("logo.png", _png(), "image/png"),
    )
    home = root_client.get("/").content.decode()
    assert f"/partners/{tenant_a.slug}/logo/?v=" in home
    assert root_client.get(f"/partners/{tenant_a.slug}/logo/").status_code == 200
    assert root_client.get(f"/partners/{TENANT_B['slug']}/logo/").status_code == 404


def test_service_refuses_unknown_fields_and_bad_hex(world, tenant_a):
    with pytest.raises(InvalidInput) as error:
        update_theme(acting_member=world.admin, tenant=tenant_a, changes={"primary_colour": "blue"})
    assert "primary_colour" in error.value.details
    with pytest.raises(InvalidInput):
        update_theme(acting_member=world.admin, tenant=tenant_a, changes={"tenant_id": "2"})


def test_partner_pages_have_navigation_footer_and_mobile_menu(world):
    page = signed_in(HOST_A, world.alice).get("/").content.decode()
    for link in ('href="/trials/"', 'href="/resources/"', 'href="/search/"', 'href="/members/me/name/"', "Sign out"):
        assert link in page
    assert "/accounts/privacy/" in page  # privacy & consent on the root
    assert 'aria-expanded="false"' in page and 'aria-controls="site-menu"' in page
    assert "Not medical advice" in page
    assert 'href="/privacy-policy/"' in page
    assert "<script>" not in page  # CSP: the menu's script is a static file
    assert host_client(HOST_A).get("/resources/", follow=True).status_code == 200


def test_wagtail_resource_pages_carry_the_theme_navigation_and_sponsor_acknowledgement(world, tenant_a):
    from wagtail.models import Site

    from cms.models import ResourceIndexPage, ResourcePage
    from partnerships import services as partnership_services
    from partnerships.models import AgreementKind, PartnershipAgreement
    from tests.partnerships.helpers import make_agreement, make_partner

    update_theme(acting_member=world.admin, tenant=tenant_a, changes={"primary_colour": "#0f5c8c"})
    sponsor = make_partner(name="Acme Biotech", kind="industry")
    agreement = make_agreement(partner=sponsor, kind=AgreementKind.SPONSORED, beneficiary=make_partner())
    agreement.tenants.add(tenant_a)
    PartnershipAgreement.objects.filter(pk=agreement.pk).update(tenant=tenant_a)
    partnership_services.activate_agreement(actor=None, agreement_id=agreement.pk)
    with tenant_context(tenant_a):
        # Into the partner's resource library (provisioning makes it), as an editor would.
        library = ResourceIndexPage.objects.first() or Site.objects.get(is_default_site=True).root_page
        page = ResourcePage(title="Pacing guide", slug="pacing-guide", summary="Plan your energy.")
        library.add_child(instance=page)
        page.save_revision().publish()
        url = page.url
    use_public_schema()
    html = host_client(HOST_A).get(url).content.decode()
    assert "Pacing guide" in html
    assert "--brand: #0f5c8c;" in html
    assert 'href="/resources/"' in html and "Not medical advice" in html
    assert "Sponsored by Acme Biotech" in html
    listing = host_client(HOST_A).get("/resources/", follow=True).content.decode()
    assert "Pacing guide" in listing
    assert "Pacing guide" not in host_client(HOST_B).get("/resources/", follow=True).content.decode()


def test_the_data_migration_repairs_themes_saved_before_the_contrast_check(world, tenant_a, tenant_b):
    """The old default accent (2.95:1 under white text) and the demo partners' 2.02:1 and 3.03:1
    colours become their nearest passing shades; passing colours are left alone."""
    import importlib

    from django.apps import apps

    from themes.contrast import theme_checks

    repair = importlib.import_module("themes.migrations.0003_repair_contrast").repair
    Theme.objects.filter(tenant=tenant_a).update(
        accent_colour="#f2a65a", primary_colour="#e35205", font_family="Comic Sans"
    )
    Theme.objects.filter(tenant=tenant_b).update(accent_colour="#e07a5f")
    untouched = Theme.objects.get(tenant=tenant_b).primary_colour
    repair(apps, None)
    for theme in Theme.objects.filter(tenant__in=[tenant_a, tenant_b]):
        checks = theme_checks(
            primary=theme.primary_colour,
            secondary=theme.secondary_colour,
            accent=theme.accent_colour,
            background=theme.background_colour,
        )
        assert all(check.passes for check in checks), [check.message for check in checks if not check.passes]
    a, b = Theme.objects.get(tenant=tenant_a), Theme.objects.get(tenant=tenant_b)
    assert a.accent_colour == "#b4610e" and a.font_family == "system-ui, sans-serif"
    assert b.accent_colour == "#ce4b28" and b.primary_colour == untouched


def test_posting_in_an_open_community_warns_first_members_only_does_not(world, tenant_a):
    from communities.models import Visibility
    from tests.factories import CommunityFactory, CommunityMembershipFactory

    with tenant_context(tenant_a):
        open_community = CommunityFactory(visibility=Visibility.OPEN)
        CommunityMembershipFactory(community=open_community, member=world.alice)
    use_public_schema()
    alice = signed_in(HOST_A, world.alice)
    notice = "anyone on the internet can read what you post here"
    assert notice in alice.get(f"/c/{open_community.slug}/new/?kind=question").content.decode()
    assert notice not in alice.get(f"/c/{world.community.slug}/new/?kind=question").content.decode()


def test_each_partners_wagtail_dashboard_names_that_partner(world, tenant_a, tenant_b):
    from tests.factories import MemberFactory

    staff = MemberFactory(is_superuser=True, is_staff=True)
    for host, name in ((HOST_A, tenant_a.name), (HOST_B, tenant_b.name)):
        response = signed_in(host, staff).get("/admin/")
        assert response.status_code == 200
        html = response.content.decode()
        assert name in html
        assert "Welcome to the Kindred Wagtail CMS" not in html
        assert "/manage/theme/" in html  # the admin menu's Theme entry
