"""One account across partners: sign-up, verification, sign-in hand-off, sign-out everywhere."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail, signing
from django.test import Client

from members.models import HandoffNonce, Member, MembershipRole, RoleChange, TenantMembership
from members.selectors import local_id_of
from members.services import HANDOFF_SALT, issue_handoff_token
from tenants.services import add_domain
from tests.conftest import PASSWORD, TENANT_A, TENANT_B, bind_test_session, host_client
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "River.Walker@Example.test",
    "password": PASSWORD,
    "display_name": "river_walker",
    "role": "caregiver",
    "birth_year": "1980",
    "country": "NZ",
    "region": "Otago",
}


def sign_in_on_root(client: Client, email: str, password: str = PASSWORD, next_path: str = "/") -> None:
    response = client.post("/accounts/login/", {"login": email, "password": password, "next": next_path})
    assert response.status_code == 302, response.content.decode()


def hand_off(root: Client, target: Client, host: str, next_path: str = "/") -> str:
    """Walk the hand-off: root issues a token (confirming if needed), target host redeems it."""
    response = root.get("/auth/handoff/", {"host": host, "next": next_path})
    if response.status_code == 200:  # first visit: the member confirms going to this partner
        response = root.post("/auth/handoff/", {"host": host, "next": next_path})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.hostname == host
    redeemed = target.get(location.path, {key: values[0] for key, values in parse_qs(location.query).items()})
    assert redeemed.status_code == 302, redeemed.content.decode()
    return redeemed["Location"]


def me(client: Client) -> dict | None:
    response = client.get("/api/v1/me/")
    return response.json() if response.status_code == 200 else None


def test_sign_up_on_a_partner_verifies_joins_and_signs_in(tenant_a, root_client, django_capture_on_commit_callbacks):
    start = host_client(TENANT_A["domain"]).get("/auth/signup/", {"next": "/"})
    assert start.status_code == 302
    signup_url = urlsplit(start["Location"])
    assert signup_url.hostname == "localhost" and signup_url.path == "/accounts/signup/"
    query = {k: v[0] for k, v in parse_qs(signup_url.query).items()}
    assert query["tenant"] == TENANT_A["slug"]

    form = root_client.get("/accounts/signup/", query)
    assert TENANT_A["name"] in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = root_client.post(f"/accounts/signup/?{signup_url.query}", {**SIGNUP, **query})
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()

    member = Member.objects.get(email="river.walker@example.test")
    assert (member.role, member.birth_year, member.country.code, member.region) == ("caregiver", 1980, "NZ", "Otago")
    assert not member.email_verified
    assert not TenantMembership.objects.filter(member=member).exists()
    # Unverified accounts cannot sign in.
    refused = root_client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    assert refused.status_code == 200 and "confirm your email" in refused.content.decode()

    assert len(mail.outbox) == 1
    link = re.search(r"http://localhost(?::\d+)?(/accounts/verify/\S+)", mail.outbox[0].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        verified = root_client.get(link)
    assert verified.status_code == 302
    assert verified["Location"].startswith("/auth/handoff/?host=alpha-alliance.localhost")
    member.refresh_from_db()
    assert member.email_verified
    membership = TenantMembership.objects.get(member=member)
    assert (membership.tenant_id, membership.role) == (tenant_a.pk, MembershipRole.MEMBER)
    assert membership.joined_at is not None
    assert RoleChange.objects.filter(membership_member=member, tenant=tenant_a, new_role="member").count() == 1
    assert mail.outbox[-1].subject == f"Welcome to {TENANT_A['name']}"

    # Already a member of A: the hand-off needs no confirmation and lands signed in.
    client_a = host_client(TENANT_A["domain"])
    handoff = root_client.get(verified["Location"])
    assert handoff.status_code == 302
    location = urlsplit(handoff["Location"])
    landed = client_a.get(location.path, {k: v[0] for k, v in parse_qs(location.query).items()})
    assert landed.status_code == 302
    assert me(client_a)["id"] == local_id_of(member, tenant=tenant_a)  # a partner never sees the email

    # The verification link opens a session only once.
    again = host_client("localhost").get(link)
    assert again.status_code == 302 and again["Location"].startswith("/accounts/login/")


def test_member_who_signed_up_on_a_signs_in_on_b(tenant_a, tenant_b, root_client, client_b):
    member = MemberFactory(email="anna@example.test", signup_tenant=tenant_a)
    start = client_b.get("/auth/login/", {"next": "/c/somewhere/"})
    assert start.status_code == 302
    issuer = urlsplit(start["Location"])
    assert (issuer.hostname, issuer.path) == ("localhost", "/auth/handoff/")

    # Not signed in on the root yet: the issuer sends us to the sign-in form first.
    to_login = root_client.get(f"{issuer.path}?{issuer.query}")
    assert to_login.status_code == 302 and to_login["Location"].startswith("/accounts/login/")
    sign_in_on_root(root_client, member.email, next_path=f"{issuer.path}?{issuer.query}")

    landed = hand_off(root_client, client_b, TENANT_B["domain"], next_path="/c/somewhere/")
    assert landed == "/c/somewhere/"
    assert me(client_b)["id"] == local_id_of(member, tenant=tenant_b)
    # B's session is B's alone: A's host knows nothing of it.
    assert me(host_client(TENANT_A["domain"])) is None


def test_session_cookies_are_host_only(tenant_b, root_client, client_b):
    member = MemberFactory()
    root_client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    assert root_client.cookies["sessionid"]["domain"] == ""
    hand_off(root_client, client_b, TENANT_B["domain"])
    assert client_b.cookies["sessionid"]["domain"] == ""
    assert client_b.cookies["sessionid"].value != root_client.cookies["sessionid"].value


class TestHandoffToken:
    def test_is_single_use(self, tenant_b, client_b):
        member = MemberFactory()
        token = issue_handoff_token(member=member, host=TENANT_B["domain"])
        assert client_b.get("/auth/handoff/complete/", {"token": token}).status_code == 302
        replay = host_client(TENANT_B["domain"]).get("/auth/handoff/complete/", {"token": token})
        assert replay.status_code == 400
        assert "already used" in replay.content.decode()

    def test_is_bound_to_its_host(self, tenant_a, tenant_b, client_b):
        member = MemberFactory()
        token = issue_handoff_token(member=member, host=TENANT_A["domain"])
        response = client_b.get("/auth/handoff/complete/", {"token": token})
        assert response.status_code == 400
        assert me(client_b) is None
        assert HandoffNonce.objects.get(member=member).redeemed_at is None

    def test_expires(self, tenant_b, client_b, settings):
        member = MemberFactory()
        token = issue_handoff_token(member=member, host=TENANT_B["domain"])
        settings.HANDOFF_TOKEN_MAX_AGE = -1
        response = client_b.get("/auth/handoff/complete/", {"token": token})
        assert response.status_code == 400 and "expired" in response.content.decode()

    def test_forged_or_tampered_tokens_are_refused(self, tenant_b, client_b):
        victim = MemberFactory()
        forged = signing.dumps({"m": victim.pk, "h": TENANT_B["domain"], "n": "x", "g": 0}, salt="other")
        assert client_b.get("/auth/handoff/complete/", {"token": forged}).status_code == 400
        token = issue_handoff_token(member=MemberFactory(), host=TENANT_B["domain"])
        payload = signing.loads(token, salt=HANDOFF_SALT)
        tampered = token.replace(token.split(":")[0], signing.dumps({**payload, "m": victim.pk}).split(":")[0])
        assert client_b.get("/auth/handoff/complete/", {"token": tampered}).status_code == 400
        assert me(client_b) is None

    def test_is_void_after_sign_out(self, tenant_b, client_b, root_client):
        member = MemberFactory()
        token = issue_handoff_token(member=member, host=TENANT_B["domain"])
        sign_in_on_root(root_client, member.email)
        root_client.post("/accounts/logout/")
        assert client_b.get("/auth/handoff/complete/", {"token": token}).status_code == 400

    def test_is_issued_only_for_partner_hosts(self, root_client):
        member = MemberFactory()
        sign_in_on_root(root_client, member.email)
        for host in ("evil.example.com", "localhost", "tenant-template.localhost"):
            assert root_client.get("/auth/handoff/", {"host": host}).status_code == 404
        assert not HandoffNonce.objects.filter(member=member).exists()

    def test_next_cannot_leave_the_tenant(self, tenant_b, root_client, client_b):
        member = MemberFactory()
        sign_in_on_root(root_client, member.email)
        for evil in ("https://evil.example.com/", "//evil.example.com/x", "javascript:alert(1)"):
            assert hand_off(root_client, host_client(TENANT_B["domain"]), TENANT_B["domain"], evil) == "/"


def test_sign_out_on_one_host_ends_every_session(tenant_a, tenant_b, root_client, client_a, client_b):
    member = MemberFactory()
    sign_in_on_root(root_client, member.email)
    hand_off(root_client, client_a, TENANT_A["domain"])
    hand_off(root_client, client_b, TENANT_B["domain"])
    assert me(client_a) and me(client_b) and me(root_client)

    assert client_b.post("/auth/logout/").status_code == 302
    assert me(client_b) is None
    assert me(client_a) is None
    assert me(root_client) is None
    # Signing in again works, and only opens a session where asked.
    sign_in_on_root(root_client, member.email)
    assert me(root_client) and me(client_a) is None


def test_partner_custom_domain_gets_its_own_session(tenant_a, root_client):
    add_domain(tenant=tenant_a, domain="community.alpha-lupus.org")
    member = MemberFactory()
    sign_in_on_root(root_client, member.email)
    custom = host_client("community.alpha-lupus.org")
    hand_off(root_client, custom, "community.alpha-lupus.org")
    assert me(custom)["id"] == local_id_of(member, tenant=tenant_a)
    assert TENANT_A["name"] in custom.get("/").content.decode()


def test_joining_creates_a_membership_once(tenant_a, root_client, client_a, django_capture_on_commit_callbacks):
    member = MemberFactory()
    sign_in_on_root(root_client, member.email)
    hand_off(root_client, client_a, TENANT_A["domain"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client_a.post("/join/", {"next": "/"}).status_code == 302
    assert client_a.post("/api/v1/membership/").status_code == 201  # idempotent
    memberships = TenantMembership.objects.filter(member=member)
    assert [(m.tenant_id, m.role) for m in memberships] == [(tenant_a.pk, "member")]
    assert "You are a member of" in client_a.get("/").content.decode()
    assert [message.subject for message in mail.outbox] == [f"Welcome to {TENANT_A['name']}"]


def test_anonymous_and_unverified_cannot_join(tenant_a, client_a, root_client):
    before = TenantMembership.objects.count()
    response = client_a.post("/join/")
    assert response.status_code == 302 and "/auth/login/" in response["Location"]
    assert client_a.post("/api/v1/membership/").status_code == 401
    unverified = MemberFactory(email_verified_at=None)
    client_a.force_login(unverified)
    bind_test_session(client_a, host=TENANT_A["domain"], member=unverified)
    refused = client_a.post("/api/v1/membership/")
    assert refused.status_code == 403 and refused.json()["code"] == "email_unverified"
    assert TenantMembership.objects.count() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "valid email"),
        ("password", "short", "too short"),
        ("password", "password1234", "too common"),
        ("birth_year", "1700", "1900"),
        ("country", "XX", "valid choice"),
        ("role", "doctor", "valid choice"),
    ],
)
def test_bad_sign_up_input_gets_a_clear_error_and_creates_nothing(root_client, field, value, message):
    before = Member.objects.count()
    response = root_client.post("/accounts/signup/", {**SIGNUP, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Member.objects.count() == before
    assert mail.outbox == []


def test_duplicate_email_creates_nothing_and_tells_the_owner_not_the_visitor(
    root_client, django_capture_on_commit_callbacks
):
    MemberFactory(email="river.walker@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = root_client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    assert "already" not in response.content.decode()
    assert Member.objects.filter(email__iexact="river.walker@example.test").count() == 1
    assert [(m.subject, m.to) for m in mail.outbox] == [
        ("You already have a Kindred account", ["river.walker@example.test"])
    ]


def test_api_sign_up_validates_and_reports_in_one_shape(root_client, django_capture_on_commit_callbacks):
    response = root_client.post(
        "/api/v1/auth/signup/", {"email": "x@example.test", "password": "short"}, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "password" in body["details"]
    with django_capture_on_commit_callbacks(execute=True):
        created = root_client.post(
            "/api/v1/auth/signup/",
            {"email": "api@example.test", "password": PASSWORD, "conditions": []},
            content_type="application/json",
        )
    assert created.status_code == 202
    assert not Member.objects.get(email="api@example.test").email_verified
    assert len(mail.outbox) == 1
