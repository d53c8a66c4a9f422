"""Issue 14, point 8: tenant admins invite members by email or CSV (preview with a per-row error report),
and embed a live feed of their open communities' latest topics on their own website."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from access.services import sync_member_role_groups
from cms import services
from communities.models import ContentStatus, Visibility
from members.models import MembershipRole, TenantInvitation
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import CommunityFactory, MemberFactory, TopicFactory, community_world

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]

CSV = (
    "name,email\n"
    "Ann,ann@example.org\n"
    "Bad,not-an-email\n"
    "Ann again,ANN@example.org\n"
    "Nobody,\n"
    "Member,{member}\n"
    "Pending,pending@example.org\n"
    "Ben,ben@example.org\n"
)


@pytest.fixture
def admin_world(tenant_a):
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a)
        sync_member_role_groups(member_id=world.admin.pk, role=MembershipRole.ADMIN)
    use_public_schema()
    TenantInvitation.objects.create(tenant=tenant_a, email="pending@example.org", role="member", nonce="n-pending")
    return world


def _csv(world):
    return CSV.format(member=world.alice.email).encode()


def test_csv_preview_reports_each_bad_row_and_sends_nothing(admin_world, tenant_a):
    emails = services.parse_invitation_csv(data=_csv(admin_world))
    preview = services.preview_invitations(acting_member=admin_world.admin, tenant=tenant_a, emails=emails)
    assert [(row.line, row.email, row.errors) for row in preview.rows] == [
        (1, "ann@example.org", []),
        (2, "not-an-email", ["Not a valid email address."]),
        (3, "ann@example.org", ["Listed twice."]),
        (4, "", ["No email address."]),
        (5, admin_world.alice.email, ["Already a member of this community."]),
        (6, "pending@example.org", ["Already invited (the invitation is still open)."]),
        (7, "ben@example.org", []),
    ]
    assert TenantInvitation.objects.filter(tenant=tenant_a).count() == 1


def test_api_csv_upload_preview_then_send_invites_only_valid_rows(admin_world, tenant_a):
    client = signed_in(HOST, admin_world.admin)
    upload = SimpleUploadedFile("members.csv", _csv(admin_world), content_type="text/csv")
    response = client.post("/api/v1/invitations/preview/", {"file": upload})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["valid"], body["invalid"]) == (2, 5)
    assert body["rows"][1] == {
        "line": 2,
        "email": "not-an-email",
        "ok": False,
        "errors": ["Not a valid email address."],
    }
    assert TenantInvitation.objects.filter(tenant=tenant_a).count() == 1
    upload = SimpleUploadedFile("members.csv", _csv(admin_world), content_type="text/csv")
    response = client.post("/api/v1/invitations/", {"file": upload})
    assert response.status_code == 201
    invited = set(TenantInvitation.objects.filter(tenant=tenant_a, role="member").values_list("email", flat=True))
    assert invited == {"ann@example.org", "ben@example.org", "pending@example.org"}
    # Sending the same list again invites nobody twice.
    client.post("/api/v1/invitations/", {"emails": ["ann@example.org"]}, content_type="application/json")
    assert TenantInvitation.objects.filter(tenant=tenant_a, email="ann@example.org").count() == 1


def test_invitations_are_for_admins_and_bad_files_are_400(admin_world, tenant_a):
    member = signed_in(HOST, admin_world.alice)
    response = member.post("/api/v1/invitations/", {"emails": ["x@example.org"]}, content_type="application/json")
    assert response.status_code == 403
    assert not TenantInvitation.objects.filter(email="x@example.org").exists()
    admin = signed_in(HOST, admin_world.admin)
    bad = SimpleUploadedFile("x.csv", b"\xff\xfe\x00bad", content_type="text/csv")
    response = admin.post("/api/v1/invitations/preview/", {"file": bad})
    assert response.status_code == 400 and response.json()["code"] == "csv_encoding"
    response = admin.post("/api/v1/invitations/preview/", {}, content_type="application/json")
    assert response.status_code == 400


def test_wagtail_admin_invitation_preview_and_send(admin_world, tenant_a):
    client = signed_in(HOST, admin_world.admin)
    page = client.post(
        "/admin/kindred/invitations/",
        {"action": "preview", "file": SimpleUploadedFile("m.csv", _csv(admin_world), content_type="text/csv")},
    )
    text = page.content.decode()
    assert page.status_code == 200 and "Not a valid email address." in text and "Send 2 invitation(s)" in text
    response = client.post(
        "/admin/kindred/invitations/",
        {"action": "send", "emails_json": '["ann@example.org", "ben@example.org"]'},
    )
    assert response.status_code == 302
    assert (
        TenantInvitation.objects.filter(tenant=tenant_a, email__in=["ann@example.org", "ben@example.org"]).count() == 2
    )
    embed = client.get("/admin/kindred/embed/").content.decode()
    assert f"http://{HOST}/embed/feed.js" in embed and "&lt;iframe" in embed


@pytest.fixture
def feeds(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        open_a = CommunityFactory(name="Open A", visibility=Visibility.OPEN)
        private_a = CommunityFactory(name="Private A", visibility=Visibility.MEMBERS_ONLY)
        author = MemberFactory()
        TopicFactory(community=open_a, author=author, title="Open topic in A")
        TopicFactory(community=private_a, author=author, title="Members-only topic in A")
        TopicFactory(community=open_a, author=author, title="Held topic in A", status=ContentStatus.HELD)
        removed = TopicFactory(community=open_a, author=author, title="Removed topic in A")
        type(removed).objects.filter(pk=removed.pk).update(deleted_at=removed.created_at)
    with tenant_context(tenant_b):
        world_b = community_world(tenant=tenant_b, visibility=Visibility.OPEN)
        TopicFactory(community=world_b.community, author=world_b.alice, title="Open topic in B")
    use_public_schema()


def test_embed_feed_shows_only_open_visible_topics_of_this_tenant(feeds):
    response = host_client(HOST).get("/api/v1/embed/feed/")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    items = response.json()["results"]
    assert [item["title"] for item in items] == ["Open topic in A"]
    assert items[0]["url"].startswith(f"http://{HOST}/t/")
    page = host_client(HOST).get("/embed/feed/")
    text = page.content.decode()
    assert "Open topic in A" in text
    for hidden in ("Members-only topic in A", "Held topic in A", "Removed topic in A", "Open topic in B"):
        assert hidden not in text
    b_titles = [item["title"] for item in host_client(TENANT_B["domain"]).get("/api/v1/embed/feed/").json()["results"]]
    assert b_titles == ["Open topic in B"]


def test_only_the_embed_route_may_be_framed_by_other_sites(feeds):
    page = host_client(HOST).get("/embed/feed/")
    assert "frame-ancestors *" in page["Content-Security-Policy"]
    assert "X-Frame-Options" not in page
    script = host_client(HOST).get("/embed/feed.js")
    assert script["Content-Type"].startswith("text/javascript")
    assert f"http://{HOST}/embed/feed/" in script.content.decode()
    home = host_client(HOST).get("/")
    assert "frame-ancestors 'none'" in home["Content-Security-Policy"]
    assert home["X-Frame-Options"] == "DENY"


def test_a_member_invitation_email_names_the_partner_and_the_platform(
    admin_world, tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitations(acting_member=admin_world.admin, tenant=tenant_a, emails=["new@example.org"])
    (message,) = [m for m in mailoutbox if m.to == ["new@example.org"]]
    assert message.subject == f"You are invited to join {TENANT_A['name']} on Kindred"
    assert f"be member of {TENANT_A['name']} on Kindred." in message.body
    assert "/accounts/invitations/" in message.body
