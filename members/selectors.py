"""Reads for member identity and per-tenant roles."""

from __future__ import annotations

from django.db.models import QuerySet

from members.models import Member, MembershipRole, TenantMembership
from tenants.models import Tenant


def membership_of(*, member: Member, tenant: Tenant) -> TenantMembership | None:
    if not member.is_authenticated:
        return None
    return TenantMembership.objects.filter(member_id=member.pk, tenant_id=tenant.pk).first()


def tenant_role(*, member: Member, tenant: Tenant) -> str | None:
    membership = membership_of(member=member, tenant=tenant)
    return membership.role if membership else None


def can_administer_tenant(*, member: Member, tenant: Tenant) -> bool:
    """Platform superusers everywhere; a tenant admin only in their own tenant."""
    if not member.is_authenticated or not member.is_active:
        return False
    return member.is_superuser or tenant_role(member=member, tenant=tenant) == MembershipRole.ADMIN


def can_moderate_tenant(*, member: Member, tenant: Tenant) -> bool:
    if not member.is_authenticated or not member.is_active:
        return False
    role = tenant_role(member=member, tenant=tenant)
    return member.is_superuser or role in {MembershipRole.ADMIN, MembershipRole.MODERATOR}


def memberships_for(*, member: Member) -> QuerySet[TenantMembership]:
    return TenantMembership.objects.filter(member_id=member.pk).select_related("tenant").order_by("tenant__name")


def members_of(*, tenant: Tenant) -> QuerySet[TenantMembership]:
    return TenantMembership.objects.filter(tenant_id=tenant.pk).select_related("member").order_by("member__email")
