"""Reads for API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from apitokens.models import ApiToken, TokenKind
from members.models import Member
from members.selectors import can_administer_tenant
from tenants.models import Tenant


def personal_tokens(*, member: Member, tenant: Tenant) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(member_id=member.pk, tenant_id=tenant.pk, kind=TokenKind.PERSONAL)


def service_tokens(*, tenant: Tenant) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(tenant_id=tenant.pk, kind=TokenKind.SERVICE).select_related("created_by")


def token_for_revocation(*, member: Member, tenant: Tenant, token_id: int) -> ApiToken | None:
    """A token this member may revoke here; None alike for missing and forbidden."""
    token = ApiToken.objects.filter(pk=token_id, tenant_id=tenant.pk).first()
    if token is None:
        return None
    if token.kind == TokenKind.PERSONAL and token.member_id == member.pk:
        return token
    if token.kind == TokenKind.SERVICE and can_administer_tenant(member=member, tenant=tenant):
        return token
    return None
