"""Roles: platform staff, tenant admins and moderators (per tenant), members, anonymous visitors."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django_tenants.utils import tenant_context

from access.services import ADMINISTRATORS
from members.models import Member, MembershipRole, RoleChange, TenantMembership
from members.selectors import local_id_of
from members.services import join_tenant, set_membership_role
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return MemberFactory(email="staff@example.test", is_staff=True, is_superuser=True)


def denied(response) -> bool:
    """Wagtail answers a PermissionDenied inside its admin with a redirect to the dashboard."""
    return response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/admin/")


def member_with_role(tenant, role, staff, **kwargs):
    member = MemberFactory(**kwargs)
    join_tenant(member=member, tenant=tenant)
    if role != MembershipRole.MEMBER:
        set_membership_role(acting_member=staff, tenant=tenant, member=member, role=role)
    use_public_schema()
    return member


class TestWagtailAdmin:
    def test_tenant_admin_of_a_edits_in_a_only(self, tenant_a, tenant_b, staff):
        admin_a = member_with_role(tenant_a, MembershipRole.ADMIN, staff)
        assert signed_in(TENANT_A["domain"], admin_a).get("/admin/").status_code == 200
        assert signed_in(TENANT_A["domain"], admin_a).get("/admin/pages/").status_code == 200
        on_b = signed_in(TENANT_B["domain"], admin_a).get("/admin/")
        assert on_b.status_code == 302 and "/auth/login/" in on_b["Location"]
        on_root = signed_in("localhost", admin_a).get("/admin/")
        assert on_root.status_code == 302 and "/admin/login/" in on_root["Location"]

    def test_groups_are_per_schema(self, tenant_a, tenant_b, staff):
        admin_a = member_with_role(tenant_a, MembershipRole.ADMIN, staff)
        with tenant_context(tenant_a):
            fresh = Member.objects.get(pk=admin_a.pk)
            assert [g.name for g in fresh.groups.all()] == [ADMINISTRATORS]
            assert fresh.has_perm("wagtailadmin.access_admin")
        with tenant_context(tenant_b):
            fresh = Member.objects.get(pk=admin_a.pk)
            assert list(fresh.groups.all()) == []
            assert not fresh.has_perm("wagtailadmin.access_admin")
        fresh = Member.objects.get(pk=admin_a.pk)
        assert list(fresh.groups.all()) == []

    def test_moderators_and_members_have_no_wagtail_admin(self, tenant_a, staff):
        for role in (MembershipRole.MODERATOR, MembershipRole.MEMBER):
            member = member_with_role(tenant_a, role, staff)
            response = signed_in(TENANT_A["domain"], member).get("/admin/")
            assert response.status_code == 302, role

    def test_tenant_admin_can_never_edit_a_global_member(self, tenant_a, staff):
        admin_a = member_with_role(tenant_a, MembershipRole.ADMIN, staff)
        victim = member_with_role(tenant_a, MembershipRole.MEMBER, staff)
        # Even if someone grants the admin group rights over members, the hooks refuse.
        with tenant_context(tenant_a):
            from django.contrib.auth.models import Group

            group = Group.objects.get(name=ADMINISTRATORS)
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="members", codename__in=["change_member", "add_member", "delete_member"]
                )
            )
            assert Member.objects.get(pk=admin_a.pk).has_perm("members.change_member")
        client = signed_in(TENANT_A["domain"], admin_a)
        assert denied(client.get(f"/admin/users/edit/{victim.pk}/"))
        response = client.post(
            f"/admin/users/edit/{victim.pk}/",
            {"email": "taken-over@example.test", "is_superuser": "on", "is_active": "on"},
        )
        assert denied(response)
        assert denied(client.post(f"/admin/users/delete/{victim.pk}/"))
        assert denied(client.post("/admin/users/new/", {"email": "new@example.test"}))
        victim.refresh_from_db()
        assert victim.email != "taken-over@example.test" and not victim.is_superuser
        assert not Member.objects.filter(email="new@example.test").exists()

    def test_platform_superuser_reaches_every_admin(self, tenant_a, tenant_b, staff):
        assert signed_in(TENANT_A["domain"], staff).get("/admin/").status_code == 200
        assert signed_in(TENANT_B["domain"], staff).get("/admin/").status_code == 200
        assert signed_in("localhost", staff).get("/admin/").status_code == 200

    def test_wagtail_migrations_are_complete_in_every_tenant_schema(self, tenant_a, tenant_b):
        from tenants.migration_executor import schemas_needing_migration

        assert schemas_needing_migration(["tenant_template", "alpha_alliance", "beta_society"]) == []
        for tenant in (tenant_a, tenant_b):
            with tenant_context(tenant):
                from wagtail.models import Page, Site

                assert Page.get_first_root_node() is not None
                assert Site.objects.get(is_default_site=True).hostname == tenant.primary_domain


class TestRoleApi:
    """Permission matrix for listing members and changing roles, per tenant."""

    @pytest.mark.parametrize(
        ("role", "list_status", "change_status"),
        [
            ("anonymous", 401, 401),
            (MembershipRole.MEMBER, 403, 403),
            (MembershipRole.MODERATOR, 200, 403),
            (MembershipRole.ADMIN, 200, 200),
            ("platform", 200, 200),
        ],
    )
    def test_matrix_on_own_tenant(self, tenant_a, staff, role, list_status, change_status):
        target = member_with_role(tenant_a, MembershipRole.MEMBER, staff)
        if role == "anonymous":
            client = host_client(TENANT_A["domain"])
        elif role == "platform":
            client = signed_in(TENANT_A["domain"], staff)
        else:
            client = signed_in(TENANT_A["domain"], member_with_role(tenant_a, role, staff))
        assert client.get("/api/v1/members/").status_code == list_status
        response = client.put(
            f"/api/v1/members/{local_id_of(target, tenant=tenant_a)}/role/",
            {"role": "moderator", "reason": "helps a lot"},
            content_type="application/json",
        )
        assert response.status_code == change_status
        expected = "moderator" if change_status == 200 else "member"
        assert TenantMembership.objects.get(member=target, tenant=tenant_a).role == expected

    def test_admin_of_a_has_no_power_on_b(self, tenant_a, tenant_b, staff):
        admin_a = member_with_role(tenant_a, MembershipRole.ADMIN, staff)
        target = member_with_role(tenant_b, MembershipRole.MEMBER, staff)
        join_tenant(member=admin_a, tenant=tenant_b)
        client = signed_in(TENANT_B["domain"], admin_a)
        assert client.get("/api/v1/members/").status_code == 403
        response = client.put(
            f"/api/v1/members/{local_id_of(target, tenant=tenant_b)}/role/",
            {"role": "admin"},
            content_type="application/json",
        )
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert TenantMembership.objects.get(member=target, tenant=tenant_b).role == "member"
        assert TenantMembership.objects.get(member=admin_a, tenant=tenant_b).role == "member"
        with tenant_context(tenant_b):
            assert not Member.objects.get(pk=target.pk).groups.exists()

    def test_a_tenant_admin_cannot_reach_a_member_of_another_tenant(self, tenant_a, tenant_b, staff):
        admin_a = member_with_role(tenant_a, MembershipRole.ADMIN, staff)
        outsider = member_with_role(tenant_b, MembershipRole.MEMBER, staff)
        response = signed_in(TENANT_A["domain"], admin_a).put(
            f"/api/v1/members/{local_id_of(outsider, tenant=tenant_a)}/role/",
            {"role": "moderator"},
            content_type="application/json",
        )
        assert response.status_code == 404
        assert not TenantMembership.objects.filter(member=outsider, tenant=tenant_a).exists()

    def test_role_changes_are_audited_and_sync_groups(self, tenant_a, staff):
        admin_a = member_with_role(tenant_a, MembershipRole.ADMIN, staff)
        target = member_with_role(tenant_a, MembershipRole.MEMBER, staff)
        client = signed_in(TENANT_A["domain"], admin_a)
        client.put(
            f"/api/v1/members/{local_id_of(target, tenant=tenant_a)}/role/",
            {"role": "admin"},
            content_type="application/json",
        )
        with tenant_context(tenant_a):
            assert Member.objects.get(pk=target.pk).has_perm("wagtailadmin.access_admin")
        client.put(
            f"/api/v1/members/{local_id_of(target, tenant=tenant_a)}/role/",
            {"role": "member"},
            content_type="application/json",
        )
        with tenant_context(tenant_a):
            assert not Member.objects.get(pk=target.pk).has_perm("wagtailadmin.access_admin")
        history = list(
            RoleChange.objects.filter(membership_member=target, tenant=tenant_a)
            .order_by("changed_at", "id")
            .values_list("old_role", "new_role", "changed_by_id")
        )
        assert history == [("", "member", target.pk), ("member", "admin", admin_a.pk), ("admin", "member", admin_a.pk)]

    def test_unknown_role_is_a_clear_error(self, tenant_a, staff):
        admin_a = member_with_role(tenant_a, MembershipRole.ADMIN, staff)
        target = member_with_role(tenant_a, MembershipRole.MEMBER, staff)
        response = signed_in(TENANT_A["domain"], admin_a).put(
            f"/api/v1/members/{local_id_of(target, tenant=tenant_a)}/role/",
            {"role": "owner"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "role" in response.json()["details"]
