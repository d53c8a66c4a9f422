"""Reads for member identity and per-tenant roles."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import FilteredRelation, Q, QuerySet
from django.utils import timezone

from members.models import Member, MembershipRole, PlatformSuspension, TenantMembership
from tenants.models import Tenant

LOCAL_ID_LENGTH = 20  # base32 characters: 100 bits of the HMAC


def local_member_id(*, public_id: uuid.UUID | str, schema_name: str) -> str:
    """The only id by which a tenant's pages and API name a member: stable within the tenant,
    different in every other, and not computable without the server's key.

    A keyed HMAC (not a stored random value) so that it exists for everyone a tenant may show,
    members who left and platform staff included, without a write on a read path; the copy on
    TenantMembership.local_id only serves indexed lookups by it.
    """
    key = settings.KINDRED_MEMBER_ID_KEY.encode()
    digest = hmac.new(key, f"{schema_name}:{public_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:LOCAL_ID_LENGTH]


def local_id_of(member: Member, *, tenant: Tenant) -> str:
    return local_member_id(public_id=member.public_id, schema_name=tenant.schema_name)


def signup_partner(*, slug: str) -> Tenant | None:
    """The partner a sign-up link names (``?tenant=slug``), if it is one."""
    return Tenant.objects.partners().filter(slug=slug).first() if slug else None


# Where a request's member instance keeps the membership its authentication already read.
_MEMBERSHIP_MEMO = "_membership_seen"


def remember_membership(*, member: Member, tenant: Tenant, membership: TenantMembership | None) -> None:
    """Keep the membership (or its absence) that authentication read on this request's member
    instance, so the role checks that follow don't read it again. An instance lives for one request
    (DESIGN.md: never reuse a Member across a schema switch); members.services forgets the memo when
    it writes the membership."""
    setattr(member, _MEMBERSHIP_MEMO, (tenant.pk, membership))


def forget_membership(*, member: Member) -> None:
    member.__dict__.pop(_MEMBERSHIP_MEMO, None)


def membership_of(*, member: Member, tenant: Tenant) -> TenantMembership | None:
    if not member.is_authenticated:
        return None
    memo = member.__dict__.get(_MEMBERSHIP_MEMO)
    if memo is not None and memo[0] == tenant.pk:
        return memo[1]
    return TenantMembership.objects.filter(member_id=member.pk, tenant_id=tenant.pk).first()


def tenant_role(*, member: Member, tenant: Tenant) -> str | None:
    membership = membership_of(member=member, tenant=tenant)
    return membership.role if membership else None


def _beyond_token_scopes(member: Member, scope: str) -> bool:
    """True when the member acts through an API token without ``scope``: a token never grants more
    than its scopes, whatever the member's role (the API authentication sets ``api_scopes``)."""
    scopes = getattr(member, "api_scopes", None)
    return scopes is not None and scope not in scopes


def can_administer_tenant(*, member: Member, tenant: Tenant) -> bool:
    """Platform superusers everywhere; a tenant admin only in their own tenant."""
    if not member.is_authenticated or not member.is_active or _beyond_token_scopes(member, "admin"):
        return False
    return member.is_superuser or tenant_role(member=member, tenant=tenant) == MembershipRole.ADMIN


def can_moderate_tenant(*, member: Member, tenant: Tenant) -> bool:
    if not member.is_authenticated or not member.is_active or _beyond_token_scopes(member, "moderate"):
        return False
    role = tenant_role(member=member, tenant=tenant)
    return member.is_superuser or role in {MembershipRole.ADMIN, MembershipRole.MODERATOR}


def memberships_for(*, member: Member) -> QuerySet[TenantMembership]:
    return TenantMembership.objects.filter(member_id=member.pk).select_related("tenant").order_by("tenant__name")


def members_of(*, tenant: Tenant) -> QuerySet[TenantMembership]:
    return TenantMembership.objects.filter(tenant_id=tenant.pk).select_related("member").order_by("member__email")


FALLBACK_NAME = "A member"


def tenant_display_names(*, tenant: Tenant, member_ids: Iterable[int | None]) -> dict[int, str]:
    """The name each member shows in ``tenant``, in one query: their name for this tenant, else their
    platform display name, else "A member"."""
    ids = {member_id for member_id in member_ids if member_id}
    if not ids:
        return {}
    # At most one membership per member and tenant (unique together): a left join, not a subquery;
    # members who left this tenant keep the name they use on the platform.
    rows = (
        Member.objects.filter(pk__in=ids)
        .annotate(here=FilteredRelation("memberships", condition=Q(memberships__tenant_id=tenant.pk)))
        .order_by()
        .values_list("pk", "here__display_name", "display_name")
    )
    return {member_id: tenant_name or display_name or FALLBACK_NAME for member_id, tenant_name, display_name in rows}


def attach_display_names(objects: Iterable[Any], *, tenant: Tenant, attrs: Iterable[str] = ("author",)) -> None:
    """Set ``<attr>_name`` on each object (one query for the whole page): templates and serializers
    show that instead of the member's platform name."""
    objects = list(objects)
    attrs = list(attrs)
    names = tenant_display_names(
        tenant=tenant, member_ids=[getattr(obj, f"{attr}_id", None) for obj in objects for attr in attrs]
    )
    for obj in objects:
        for attr in attrs:
            member_id = getattr(obj, f"{attr}_id", None)
            name = names.get(member_id, FALLBACK_NAME) if member_id else FORMER_MEMBER_NAME
            setattr(obj, f"{attr}_name", name)
            # The Member rides along only if it is already loaded: touching it here would cost a query.
            if member_id and type(obj)._meta.get_field(attr).is_cached(obj):
                member = getattr(obj, attr)
                if member is not None:
                    member.tenant_name = name


FORMER_MEMBER_NAME = "A former member"


def tenant_name_of(*, member: Member, tenant: Tenant) -> str:
    return tenant_display_names(tenant=tenant, member_ids=[member.pk]).get(member.pk, FALLBACK_NAME)


def listed_members(*, tenant: Tenant) -> QuerySet[TenantMembership]:
    """Members who chose to appear in this tenant's member lists."""
    return (
        TenantMembership.objects.filter(
            tenant_id=tenant.pk, member__listed_in_member_lists=True, member__is_active=True
        )
        .select_related("member")
        .order_by("joined_at", "id")
    )


def member_by_local_id(*, tenant: Tenant, local_id: str) -> TenantMembership | None:
    """A member of ``tenant`` named by their id there (indexed: tenant + local_id)."""
    if not local_id:
        return None
    return TenantMembership.objects.filter(tenant_id=tenant.pk, local_id=local_id).select_related("member").first()


def profile_in_tenant(*, tenant: Tenant, local_id: str) -> TenantMembership | None:
    """A member's profile as this tenant sees it: only members of the tenant who are listed."""
    if not local_id:
        return None
    return (
        TenantMembership.objects.filter(
            tenant_id=tenant.pk, local_id=local_id, member__is_active=True,
            member__listed_in_member_lists=True,
        )
        .select_related("member", "tenant")
        .first()
    )  # fmt: skip


def visible_profile(*, membership: TenantMembership) -> dict[str, Any]:
    """Only what the member allowed: name always; role, conditions and location when they opted in."""
    member = membership.member
    profile: dict[str, Any] = {
        "id": local_id_of(member, tenant=membership.tenant),
        "display_name": membership.display_name or member.display_name or FALLBACK_NAME,
        "joined_at": membership.joined_at,
    }
    if member.show_role and member.role:
        profile["role"] = member.get_role_display()
    if member.show_conditions:
        profile["conditions"] = sorted(member.conditions.values_list("name", flat=True))
    if member.show_location and (member.country or member.region):
        profile["location"] = ", ".join(
            part for part in (member.region, member.country.name if member.country else "") if part
        )
    return profile


def platform_suspension_of(*, member: Member) -> PlatformSuspension | None:
    """The platform-wide suspension in force for this member now, if any."""
    if not member.is_authenticated:
        return None
    now = timezone.now()
    return (
        PlatformSuspension.objects.filter(member_id=member.pk, lifted_at__isnull=True, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("-starts_at", "-id")
        .first()
    )
