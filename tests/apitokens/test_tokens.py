"""API tokens: personal and service tokens, scopes, expiry, revocation, hashing, tenant binding and
the member's role as the ceiling of what a token can do."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apitokens import services as token_services
from apitokens.models import ApiToken, ApiTokenEvent, ServiceAccount, TokenAction
from communities import services as community_services
from communities.models import Community, Post, Topic, TopicKind
from members.models import Member, MembershipRole, RoleChange, TenantMembership
from members.selectors import local_id_of, membership_of, remember_membership
from members.services import leave_tenant
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import MemberFactory, TenantMembershipFactory, community_world

pytestmark = pytest.mark.django_db

HOST_A = TENANT_A["domain"]
HOST_B = TENANT_B["domain"]
JSON = "application/json"


@contextmanager
def in_tenant(tenant: Any) -> Iterator[None]:
    with tenant_context(tenant):
        yield
    use_public_schema()


@pytest.fixture
def world(tenant_a, settings):
    settings.KINDRED_POSTING_RATE = "1000/1m"
    with in_tenant(tenant_a):
        w = community_world(tenant=tenant_a, slug="token-circle", name="Token circle")
        w.topic = community_services.create_topic(
            acting_member=w.alice, tenant=tenant_a, community=w.community, kind=TopicKind.QUESTION,
            title="Fatigue after infusions", body="Does it get better?",
        )  # fmt: skip
        w.post = Post.objects.get(topic=w.topic)
    return w


def make_token(member: Member, tenant: Any, scopes: list[str], days: int = 30) -> str:
    return token_services.create_personal_token(
        member=member, tenant=tenant, name="script", scopes=scopes, expires_in_days=days
    ).secret


def bearer(host: str, raw: str) -> Any:
    return host_client(host, HTTP_AUTHORIZATION=f"Bearer {raw}")


def topics_in(tenant: Any) -> int:
    with in_tenant(tenant):
        return Topic.objects.count()


# ---------------------------------------------------------------------------------------------
# Making, showing once, listing and revoking on the web
# ---------------------------------------------------------------------------------------------


class TestWebPages:
    def test_make_a_token_shown_once_then_listed_by_prefix_only(self, world):
        client = signed_in(HOST_A, world.alice)
        page = client.get("/members/me/tokens/")
        assert page.status_code == 200
        assert "My personal access tokens" in page.content.decode()
        assert "Service tokens" not in page.content.decode()  # not an administrator
        response = client.post(
            "/members/me/tokens/",
            {"kind": "personal", "personal-name": "My script", "personal-scopes": ["read"],
             "personal-expires_in_days": "30"},
        )  # fmt: skip
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        raw = re.search(r'value="(kdr_[A-Za-z0-9]+_[A-Za-z0-9_-]+)"', response.content.decode()).group(1)
        token = ApiToken.objects.get(member=world.alice)
        assert raw.startswith(token.prefix + "_")
        listing = client.get("/members/me/tokens/").content.decode()
        assert token.prefix in listing and raw not in listing
        # The token works, as Alice, on this site's API.
        me = bearer(HOST_A, raw).get("/api/v1/me/")
        assert me.status_code == 200
        assert me.json()["id"] == local_id_of(world.alice, tenant=world.tenant)
        assert [(e.action, e.actor_id, e.via) for e in ApiTokenEvent.objects.filter(token=token)] == [
            (TokenAction.CREATED, world.alice.pk, "web")
        ]

    def test_bad_input_is_explained_and_makes_nothing(self, world):
        client = signed_in(HOST_A, world.alice)
        response = client.post(
            "/members/me/tokens/",
            {"kind": "personal", "personal-name": "", "personal-expires_in_days": "30"},
        )
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        assert not ApiToken.objects.exists()

    def test_revoke_from_the_web_stops_the_token_and_is_audited(self, world):
        raw = make_token(world.alice, world.tenant, ["read"])
        token = ApiToken.objects.get(member=world.alice)
        assert bearer(HOST_A, raw).get("/api/v1/communities/").status_code == 200
        # Someone else cannot revoke it (404 alike for missing and forbidden) ...
        other = signed_in(HOST_A, world.bob).post(f"/members/me/tokens/{token.pk}/revoke/")
        assert other.status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None
        # ... its owner can.
        response = signed_in(HOST_A, world.alice).post(f"/members/me/tokens/{token.pk}/revoke/")
        assert response.status_code == 302
        token.refresh_from_db()
        assert token.revoked_at is not None and token.revoked_by_id == world.alice.pk
        refused = bearer(HOST_A, raw).get("/api/v1/communities/")
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_token"
        assert refused["WWW-Authenticate"].startswith("Bearer")
        actions = list(ApiTokenEvent.objects.filter(token=token).order_by("at", "id").values_list("action", "actor_id"))
        assert actions == [(TokenAction.CREATED, world.alice.pk), (TokenAction.REVOKED, world.alice.pk)]

    def test_pages_are_linked_from_the_account_navigation(self, world):
        client = signed_in(HOST_A, world.alice)
        assert 'href="/members/me/name/"' in client.get("/").content.decode()
        assert 'href="/members/me/tokens/"' in client.get("/members/me/name/").content.decode()

    def test_only_members_of_the_site_have_a_token_page(self, world):
        assert signed_in(HOST_A, world.stranger).get("/members/me/tokens/").status_code == 404
        assert host_client(HOST_A).get("/members/me/tokens/").status_code == 302  # to sign in


# ---------------------------------------------------------------------------------------------
# Hashing, expiry, tenant binding
# ---------------------------------------------------------------------------------------------


class TestStorageAndBinding:
    def test_the_database_holds_no_usable_token(self, world):
        raw = make_token(world.alice, world.tenant, ["read", "write"])
        token = ApiToken.objects.get(member=world.alice)
        stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
        assert not any(raw in value or raw.split("_", 2)[2] in value for value in stored)
        assert token.digest != raw and len(token.digest) == 64
        for guess in (token.digest, token.prefix, f"{token.prefix}_{token.digest}"):
            assert bearer(HOST_A, guess).get("/api/v1/me/").status_code == 401
        assert bearer(HOST_A, raw).get("/api/v1/me/").status_code == 200
        # One changed character of the secret is refused too.
        tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
        assert bearer(HOST_A, tampered).get("/api/v1/me/").status_code == 401

    def test_a_token_for_one_partner_is_refused_on_another_and_on_the_root(self, world, tenant_b):
        TenantMembershipFactory(member=world.alice, tenant=tenant_b)  # Alice belongs to both
        raw = make_token(world.alice, world.tenant, ["read", "write"])
        assert bearer(HOST_A, raw).get("/api/v1/me/").status_code == 200
        for host in (HOST_B, "localhost"):
            response = bearer(host, raw).get("/api/v1/me/")
            assert response.status_code == 401, host
            assert response.json()["code"] == "invalid_token"
        # A write on B is refused before it does anything.
        assert bearer(HOST_B, raw).post("/api/v1/membership/").status_code == 401

    def test_an_expired_token_is_refused(self, world):
        raw = make_token(world.alice, world.tenant, ["read"], days=1)
        assert bearer(HOST_A, raw).get("/api/v1/me/").status_code == 200
        ApiToken.objects.filter(member=world.alice).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
        assert bearer(HOST_A, raw).get("/api/v1/me/").status_code == 401

    def test_expiry_is_required_and_bounded(self, world, settings):
        settings.KINDRED_API_TOKEN_MAX_DAYS = 90
        client = signed_in(HOST_A, world.alice)
        for days in (0, 91):
            response = client.post(
                "/api/v1/tokens/", {"name": "x", "scopes": ["read"], "expires_in_days": days}, content_type=JSON
            )
            assert response.status_code == 400
        assert not ApiToken.objects.exists()

    def test_a_member_who_left_or_was_deactivated_loses_the_token(self, world):
        raw = make_token(world.alice, world.tenant, ["read"])
        Member.objects.filter(pk=world.alice.pk).update(is_active=False)
        assert bearer(HOST_A, raw).get("/api/v1/me/").status_code == 401
        Member.objects.filter(pk=world.alice.pk).update(is_active=True)
        assert bearer(HOST_A, raw).get("/api/v1/me/").status_code == 200
        leave_tenant(member=world.alice, tenant=world.tenant)
        use_public_schema()
        assert bearer(HOST_A, raw).get("/api/v1/me/").status_code == 401

    def test_last_use_is_recorded(self, world):
        raw = make_token(world.alice, world.tenant, ["read"])
        assert ApiToken.objects.get(member=world.alice).last_used_at is None
        bearer(HOST_A, raw).get("/api/v1/me/")
        assert ApiToken.objects.get(member=world.alice).last_used_at is not None

    def test_malformed_authorization_is_refused(self, world):
        assert host_client(HOST_A, HTTP_AUTHORIZATION="Bearer").get("/api/v1/me/").status_code == 401
        assert host_client(HOST_A, HTTP_AUTHORIZATION="Bearer a b").get("/api/v1/me/").status_code == 401
        # No credentials at all: 401, saying how to sign in.
        assert host_client(HOST_A).get("/api/v1/me/").status_code == 401


# ---------------------------------------------------------------------------------------------
# Scopes and roles
# ---------------------------------------------------------------------------------------------


class TestScopes:
    def test_reads_need_read_and_writes_need_write(self, world):
        read_only = make_token(world.alice, world.tenant, ["read"])
        write_only = make_token(world.alice, world.tenant, ["write"])
        slug = world.community.slug
        assert bearer(HOST_A, read_only).get(f"/api/v1/communities/{slug}/topics/").status_code == 200
        before = topics_in(world.tenant)
        body = {"kind": "update", "title": "By script", "body": "Hello"}
        refused = bearer(HOST_A, read_only).post(f"/api/v1/communities/{slug}/topics/", body, content_type=JSON)
        assert refused.status_code == 403
        assert refused.json()["code"] == "insufficient_scope"
        assert topics_in(world.tenant) == before
        assert bearer(HOST_A, write_only).get(f"/api/v1/communities/{slug}/topics/").status_code == 403
        created = bearer(HOST_A, write_only).post(f"/api/v1/communities/{slug}/topics/", body, content_type=JSON)
        assert created.status_code == 201
        assert topics_in(world.tenant) == before + 1
        with in_tenant(world.tenant):
            assert Topic.objects.get(title="By script").author_id == world.alice.pk

    def test_moderation_endpoints_need_the_moderate_scope(self, world):
        slug = world.community.slug
        plain = make_token(world.moderator, world.tenant, ["read", "write"])
        response = bearer(HOST_A, plain).get(f"/api/v1/communities/{slug}/requests/")
        assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")
        moderating = make_token(world.moderator, world.tenant, ["read", "moderate"])
        assert bearer(HOST_A, moderating).get(f"/api/v1/communities/{slug}/requests/").status_code == 200

    def test_a_write_token_does_not_carry_a_moderators_power(self, world):
        """Removing someone else's post is moderation: a moderator's write-only token cannot."""
        write_only = make_token(world.moderator, world.tenant, ["write"])
        response = bearer(HOST_A, write_only).delete(f"/api/v1/posts/{world.post.pk}/", content_type=JSON)
        # Without its moderator's rights the token cannot even see this members-only community.
        assert response.status_code == 404
        with in_tenant(world.tenant):
            assert Post.objects.get(pk=world.post.pk).deleted_at is None
        both = make_token(world.moderator, world.tenant, ["write", "moderate"])
        assert bearer(HOST_A, both).delete(f"/api/v1/posts/{world.post.pk}/", content_type=JSON).status_code == 204

    def test_admin_endpoints_need_the_admin_scope(self, world):
        target = local_id_of(world.carol, tenant=world.tenant)
        url = f"/api/v1/members/{target}/role/"
        moderate = make_token(world.admin, world.tenant, ["read", "write", "moderate"])
        response = bearer(HOST_A, moderate).put(url, {"role": "moderator"}, content_type=JSON)
        assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")
        assert TenantMembership.objects.get(member=world.carol, tenant=world.tenant).role == MembershipRole.MEMBER
        admin = make_token(world.admin, world.tenant, ["admin"])
        assert bearer(HOST_A, admin).put(url, {"role": "moderator"}, content_type=JSON).status_code == 200
        assert TenantMembership.objects.get(member=world.carol, tenant=world.tenant).role == MembershipRole.MODERATOR
        change = RoleChange.objects.filter(membership_member=world.carol).order_by("-changed_at", "-id").first()
        assert change.changed_by_id == world.admin.pk

    @pytest.mark.parametrize("who", ["alice", "moderator"])
    def test_a_token_never_grants_more_than_the_members_role(self, world, who):
        member = getattr(world, who)
        everything = make_token(member, world.tenant, ["read", "write", "moderate", "admin"])
        target = local_id_of(world.carol, tenant=world.tenant)
        response = bearer(HOST_A, everything).put(
            f"/api/v1/members/{target}/role/", {"role": "admin"}, content_type=JSON
        )
        assert response.status_code == 403
        assert TenantMembership.objects.get(member=world.carol, tenant=world.tenant).role == MembershipRole.MEMBER
        created = bearer(HOST_A, everything).post(
            "/api/v1/communities/", {"name": "Mine", "slug": "mine"}, content_type=JSON
        )
        assert created.status_code == 403
        with in_tenant(world.tenant):
            assert not Community.objects.filter(slug="mine").exists()
        if who == "alice":
            refused = bearer(HOST_A, everything).get(f"/api/v1/communities/{world.community.slug}/requests/")
            assert refused.status_code == 403

    def test_a_role_lost_after_the_token_was_made_is_lost_for_the_token(self, world, tenant_a):
        token = make_token(world.admin, world.tenant, ["read", "admin"])
        staff = MemberFactory(is_staff=True, is_superuser=True)
        from members.services import set_membership_role

        set_membership_role(acting_member=staff, tenant=tenant_a, member=world.admin, role=MembershipRole.MEMBER)
        use_public_schema()
        target = local_id_of(world.carol, tenant=world.tenant)
        response = bearer(HOST_A, token).put(f"/api/v1/members/{target}/role/", {"role": "admin"}, content_type=JSON)
        assert response.status_code == 403

    def test_a_token_cannot_make_a_stronger_token(self, world):
        raw = make_token(world.alice, world.tenant, ["read", "write"], days=10)
        client = bearer(HOST_A, raw)
        stronger = client.post(
            "/api/v1/tokens/", {"name": "more", "scopes": ["read", "moderate"], "expires_in_days": 5}, content_type=JSON
        )
        assert stronger.status_code == 403
        longer = client.post(
            "/api/v1/tokens/", {"name": "longer", "scopes": ["read"], "expires_in_days": 30}, content_type=JSON
        )
        assert longer.status_code == 400
        weaker = client.post(
            "/api/v1/tokens/", {"name": "weaker", "scopes": ["read"], "expires_in_days": 5}, content_type=JSON
        )
        assert weaker.status_code == 201
        assert ApiToken.objects.filter(member=world.alice).count() == 2


# ---------------------------------------------------------------------------------------------
# The same through the API, and service tokens
# ---------------------------------------------------------------------------------------------


class TestApi:
    def test_create_list_revoke_personal_tokens(self, world):
        client = signed_in(HOST_A, world.alice)
        created = client.post(
            "/api/v1/tokens/", {"name": "CLI", "scopes": ["read"], "expires_in_days": 7}, content_type=JSON
        )
        assert created.status_code == 201
        data = created.json()
        assert data["token"].startswith(data["prefix"] + "_")
        assert data["scopes"] == ["read"] and data["kind"] == "personal" and data["is_active"] is True
        listed = client.get("/api/v1/tokens/").json()
        assert [row["prefix"] for row in listed] == [data["prefix"]]
        assert "token" not in listed[0]
        assert bearer(HOST_A, data["token"]).get("/api/v1/me/").status_code == 200
        # Bob cannot revoke Alice's token; Alice can.
        assert signed_in(HOST_A, world.bob).delete(f"/api/v1/tokens/{data['id']}/").status_code == 404
        assert client.delete(f"/api/v1/tokens/{data['id']}/").status_code == 204
        assert bearer(HOST_A, data["token"]).get("/api/v1/me/").status_code == 401
        events = ApiTokenEvent.objects.filter(token_id=data["id"]).order_by("at", "id")
        assert [(e.action, e.via) for e in events] == [("created", "api"), ("revoked", "api")]

    def test_service_tokens_are_made_by_admins_and_act_for_this_partner_only(self, world, tenant_b):
        admin = signed_in(HOST_A, world.admin)
        created = admin.post(
            "/api/v1/service-tokens/",
            {"name": "CRM sync", "scopes": ["read", "moderate"], "expires_in_days": 90},
            content_type=JSON,
        )
        assert created.status_code == 201
        data = created.json()
        assert data["kind"] == "service"
        token = ApiToken.objects.get(pk=data["id"])
        principal = token.member
        assert principal.pk != world.admin.pk
        assert not principal.has_usable_password()
        assert list(TenantMembership.objects.filter(member=principal).values_list("tenant_id", "role")) == [
            (world.tenant.pk, MembershipRole.MODERATOR)
        ]
        assert ServiceAccount.objects.get(member=principal).created_by_id == world.admin.pk
        client = bearer(HOST_A, data["token"])
        assert client.get(f"/api/v1/communities/{world.community.slug}/requests/").status_code == 200
        assert client.get("/api/v1/me/").json()["display_name"] == "CRM sync (service)"
        assert bearer(HOST_B, data["token"]).get("/api/v1/communities/").status_code == 401
        # It cannot sign in on the web.
        login = host_client("localhost").post("/accounts/login/", {"email": principal.email, "password": ""})
        assert "_auth_user_id" not in host_client("localhost").session
        assert login.status_code in (200, 302)
        # Listed for admins, revoked by an admin.
        assert [row["id"] for row in admin.get("/api/v1/service-tokens/").json()] == [data["id"]]
        assert admin.delete(f"/api/v1/service-tokens/{data['id']}/").status_code == 204
        assert client.get("/api/v1/communities/").status_code == 401

    @pytest.mark.parametrize("who", ["alice", "moderator"])
    def test_only_admins_make_service_tokens(self, world, who):
        response = signed_in(HOST_A, getattr(world, who)).post(
            "/api/v1/service-tokens/", {"name": "x", "scopes": ["read"], "expires_in_days": 9}, content_type=JSON
        )
        assert response.status_code == 403
        assert not ApiToken.objects.exists() and not ServiceAccount.objects.exists()
        assert signed_in(HOST_A, getattr(world, who)).get("/api/v1/service-tokens/").status_code == 403

    def test_admins_make_service_tokens_on_the_web(self, world):
        client = signed_in(HOST_A, world.admin)
        assert "Service tokens (administrators)" in client.get("/members/me/tokens/").content.decode()
        response = client.post(
            "/members/me/tokens/",
            {"kind": "service", "service-name": "Newsletter", "service-scopes": ["read"],
             "service-expires_in_days": "365"},
        )  # fmt: skip
        assert response.status_code == 200
        token = ApiToken.objects.get(kind="service")
        assert token.name == "Newsletter" and token.created_by_id == world.admin.pk
        assert token.prefix in response.content.decode()

    def test_openapi_documents_the_bearer_scheme(self, tenant_a):
        schema = host_client(HOST_A).get("/api/schema/", HTTP_ACCEPT="application/json").json()
        scheme = schema["components"]["securitySchemes"]["bearerToken"]
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
        assert {"/api/v1/tokens/", "/api/v1/service-tokens/"} <= set(schema["paths"])


def test_the_token_principal_never_leaks_through_the_schema_switch(world):
    """The scope cap lives on the request's Member instance only: a fresh instance has none."""
    raw = make_token(world.moderator, world.tenant, ["read"])
    bearer(HOST_A, raw).get("/api/v1/me/")
    use_public_schema()
    assert not hasattr(Member.objects.get(pk=world.moderator.pk), "api_scopes")


def test_platform_staff_see_tokens_and_their_audit_but_never_the_digest(world):
    make_token(world.alice, world.tenant, ["read"])
    token = ApiToken.objects.get(member=world.alice)
    staff = signed_in("localhost", MemberFactory(is_staff=True, is_superuser=True))
    listing = staff.get("/admin/apitokens/apitoken/")
    assert listing.status_code == 200 and token.prefix in listing.content.decode()
    detail = staff.get(f"/admin/apitokens/apitoken/{token.pk}/change/").content.decode()
    assert token.prefix in detail and token.digest not in detail
    assert token.prefix in staff.get("/admin/apitokens/apitokenevent/").content.decode()
    assert staff.post(f"/admin/apitokens/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_moderation_log_shows_a_read_token_only_what_its_member_may_see(world):
    with in_tenant(world.tenant):
        rude = community_services.create_reply(
            acting_member=world.bob, tenant=world.tenant, topic=world.topic, body="x"
        )
        community_services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=rude, reason="Kind")
    session_log = signed_in(HOST_A, world.moderator).get("/api/v1/moderation-log/").json()
    assert [row["reason"] for row in session_log] == ["Kind"]
    read_only = make_token(world.moderator, world.tenant, ["read"])
    assert bearer(HOST_A, read_only).get("/api/v1/moderation-log/").json() == []
    moderating = make_token(world.moderator, world.tenant, ["read", "moderate"])
    assert [row["reason"] for row in bearer(HOST_A, moderating).get("/api/v1/moderation-log/").json()] == ["Kind"]
    bobs = make_token(world.bob, world.tenant, ["read"])
    assert [row["reason"] for row in bearer(HOST_A, bobs).get("/api/v1/moderation-log/").json()] == ["Kind"]


# ---------------------------------------------------------------------------------------------
# Two-factor before a privileged member makes a token
# ---------------------------------------------------------------------------------------------


class TestTokensOfPrivilegedMembers:
    """A token carries a moderator's or admin's role into the API without a session, so it may only
    be made from a session that passed two-factor (issue 9: privileged areas need it)."""

    def test_a_moderator_without_two_factor_cannot_make_a_token(self, world):
        client = signed_in(HOST_A, world.moderator, mfa=False)
        body = {"name": "x", "scopes": ["read"], "expires_in_days": 30}
        response = client.post("/api/v1/tokens/", body, content_type=JSON)
        assert response.status_code == 403
        assert response.json()["code"] == "mfa_required"
        page = client.post("/members/me/tokens/", {"name": "x", "scopes": ["read"], "expires_in_days": 30})
        assert page.status_code == 302
        assert "/auth/mfa/" in page["Location"]
        assert not ApiToken.objects.filter(member=world.moderator).exists()

    def test_after_two_factor_the_moderator_can(self, world):
        client = signed_in(HOST_A, world.moderator, mfa=True)
        body = {"name": "x", "scopes": ["read"], "expires_in_days": 30}
        assert client.post("/api/v1/tokens/", body, content_type=JSON).status_code == 201
        assert ApiToken.objects.filter(member=world.moderator).count() == 1

    def test_a_plain_member_is_not_asked(self, world):
        client = signed_in(HOST_A, world.alice, mfa=False)
        body = {"name": "x", "scopes": ["read"], "expires_in_days": 30}
        assert client.post("/api/v1/tokens/", body, content_type=JSON).status_code == 201


# ---------------------------------------------------------------------------------------------
# Authentication reads the membership once, and never a stale one
# ---------------------------------------------------------------------------------------------


def _membership_reads(queries: Any) -> int:
    return sum(1 for q in queries if 'FROM "members_tenantmembership"' in q["sql"])


def test_a_bearer_request_reads_token_member_and_membership_in_one_query(world):
    raw = make_token(world.alice, world.tenant, ["read"])
    client = bearer(HOST_A, raw)
    assert client.get("/api/v1/communities/").status_code == 200  # warm: routing cached
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/v1/communities/{world.community.slug}/").status_code == 200
    token_reads = [q["sql"] for q in queries if 'FROM "apitokens_apitoken"' in q["sql"]]
    assert len(token_reads) == 1 and '"members_tenantmembership"' in token_reads[0]
    # The role checks after authentication take the membership from the memo.
    assert _membership_reads(queries) == 0


def test_the_membership_memo_is_per_tenant_and_forgotten_when_the_membership_changes(world, tenant_b):
    use_public_schema()
    member = Member.objects.get(pk=world.bob.pk)
    membership = TenantMembership.objects.get(member=member, tenant=world.tenant)
    remember_membership(member=member, tenant=world.tenant, membership=membership)
    with CaptureQueriesContext(connection) as queries:
        assert membership_of(member=member, tenant=world.tenant) == membership
    assert len(queries) == 0
    # Another tenant is read, not taken from the memo.
    assert membership_of(member=member, tenant=tenant_b) is None
    # Leaving (a write through members.services) forgets it: the next read sees no membership.
    leave_tenant(member=member, tenant=world.tenant)
    use_public_schema()
    assert membership_of(member=member, tenant=world.tenant) is None
