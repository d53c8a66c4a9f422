"""Writes for API tokens: create (the token is returned once), revoke, authenticate.

Tokens are 256-bit random secrets, so a plain SHA-256 digest is enough to make the stored value
useless (no dictionary to try, unlike passwords); the lookup goes by the clear prefix and the
digests are compared in constant time.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import FilteredRelation, Q
from django.utils import timezone

from apitokens.models import ApiToken, ApiTokenEvent, Scope, ServiceAccount, TokenAction, TokenKind
from core.errors import InvalidInput, NotAllowed
from members import services as member_services
from members.models import Member, MembershipRole
from members.selectors import can_administer_tenant, membership_of, remember_membership
from tenants.models import Tenant, TenantKind

TOKEN_PREFIX = "kdr"
PREFIX_CHARS = 10  # random characters of the clear prefix (kdr_XXXXXXXXXX)
LAST_USED_RESOLUTION = datetime.timedelta(minutes=5)


class TokenRefused(Exception):
    """Any reason a presented token does not authenticate (one answer for all: 401)."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the whole token, shown once and never stored


def max_days() -> int:
    return int(getattr(settings, "KINDRED_API_TOKEN_MAX_DAYS", 365))


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _validate(*, name: str, scopes: Iterable[str], expires_in_days: int) -> tuple[str, list[str]]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the token a name that says what it is for."]
    elif len(name) > 80:
        errors["name"] = ["At most 80 characters."]
    chosen = sorted(set(scopes), key=Scope.values.index) if set(scopes) <= set(Scope.values) else None
    if chosen is None:
        errors["scopes"] = [f"Choose among: {', '.join(Scope.values)}."]
    elif not chosen:
        errors["scopes"] = ["Choose at least one scope."]
    if not 1 <= expires_in_days <= max_days():
        errors["expires_in_days"] = [f"Between 1 and {max_days()} days."]
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", details=errors)
    return name, chosen or []


def _within_acting_token(*, scopes: list[str], expires_at: datetime.datetime, acting_token: ApiToken | None) -> None:
    """A token can only make tokens weaker than itself (no escalation through the API)."""
    if acting_token is None:
        return
    extra = set(scopes) - set(acting_token.scopes)
    if extra:
        raise NotAllowed(
            "A token cannot create a token with scopes it does not have.",
            code="insufficient_scope",
            details={"scopes": [f"Not in this token: {', '.join(sorted(extra))}."]},
        )
    if expires_at > acting_token.expires_at:
        raise InvalidInput(
            "A token cannot create a token that outlives it.",
            details={"expires_in_days": ["Later than this token's own expiry."]},
        )


def _new_secret() -> tuple[str, str]:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    prefix = f"{TOKEN_PREFIX}_" + "".join(secrets.choice(alphabet) for _ in range(PREFIX_CHARS))
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def _issue(
    *,
    kind: str,
    member: Member,
    tenant: Tenant,
    name: str,
    scopes: list[str],
    expires_at: datetime.datetime,
    created_by: Member,
    service_account: ServiceAccount | None,
    via: str,
) -> IssuedToken:
    prefix, raw = _new_secret()
    token = ApiToken.objects.create(
        kind=kind,
        member=member,
        tenant=tenant,
        service_account=service_account,
        name=name,
        prefix=prefix,
        digest=digest_of(raw),
        scopes=scopes,
        created_by=created_by,
        expires_at=expires_at,
    )
    ApiTokenEvent.objects.create(
        token=token,
        tenant=tenant,
        action=TokenAction.CREATED,
        actor=created_by,
        token_prefix=prefix,
        scopes=scopes,
        via=via,
    )
    return IssuedToken(token=token, secret=raw)


def create_personal_token(
    *,
    member: Member,
    tenant: Tenant,
    name: str,
    scopes: Iterable[str],
    expires_in_days: int,
    acting_token: ApiToken | None = None,
    via: str = "web",
) -> IssuedToken:
    """A token acting as ``member`` on ``tenant`` only; never more than the member's role there."""
    name, chosen = _validate(name=name, scopes=scopes, expires_in_days=expires_in_days)
    if tenant.kind != TenantKind.PARTNER:
        raise InvalidInput("API tokens belong to a partner community.", code="not_a_partner")
    if membership_of(member=member, tenant=tenant) is None:
        raise NotAllowed("Join this community before making an API token for it.", code="not_a_member")
    if ServiceAccount.objects.filter(member_id=member.pk).exists():
        raise NotAllowed("A service principal cannot make personal tokens.")
    expires_at = timezone.now() + datetime.timedelta(days=expires_in_days)
    _within_acting_token(scopes=chosen, expires_at=expires_at, acting_token=acting_token)
    with transaction.atomic():
        return _issue(
            kind=TokenKind.PERSONAL,
            member=member,
            tenant=tenant,
            name=name,
            scopes=chosen,
            expires_at=expires_at,
            created_by=member,
            service_account=None,
            via=via,
        )


def _role_for(scopes: list[str]) -> str:
    if Scope.ADMIN in scopes:
        return MembershipRole.ADMIN
    if Scope.MODERATE in scopes:
        return MembershipRole.MODERATOR
    return MembershipRole.MEMBER


def create_service_token(
    *,
    acting_member: Member,
    tenant: Tenant,
    name: str,
    scopes: Iterable[str],
    expires_in_days: int,
    acting_token: ApiToken | None = None,
    via: str = "web",
) -> IssuedToken:
    """A tenant administrator gives the partner's own systems a token. It acts as a new service
    principal whose only membership is this tenant, with the least role its scopes need."""
    name, chosen = _validate(name=name, scopes=scopes, expires_in_days=expires_in_days)
    if not can_administer_tenant(member=acting_member, tenant=tenant):
        raise NotAllowed("Only this community's administrators can create service tokens.")
    expires_at = timezone.now() + datetime.timedelta(days=expires_in_days)
    _within_acting_token(scopes=chosen, expires_at=expires_at, acting_token=acting_token)
    with transaction.atomic():
        principal = member_services.create_service_member(
            acting_member=acting_member, tenant=tenant, name=name, role=_role_for(chosen)
        )
        account = ServiceAccount.objects.create(member=principal, tenant=tenant, name=name, created_by=acting_member)
        return _issue(
            kind=TokenKind.SERVICE,
            member=principal,
            tenant=tenant,
            name=name,
            scopes=chosen,
            expires_at=expires_at,
            created_by=acting_member,
            service_account=account,
            via=via,
        )


def revoke_token(*, acting_member: Member, tenant: Tenant, token: ApiToken, via: str = "web") -> ApiToken:
    """Its owner revokes a personal token; a tenant administrator revokes a service token (or any
    token of their tenant). Idempotent: revoking twice keeps the first date and writes one row."""
    if token.tenant_id != tenant.pk:
        raise NotAllowed("That token belongs to another community.")
    own = token.kind == TokenKind.PERSONAL and token.member_id == acting_member.pk
    if not own and not can_administer_tenant(member=acting_member, tenant=tenant):
        raise NotAllowed("Only the token's owner or this community's administrators can revoke it.")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = acting_member
            locked.save(update_fields=["revoked_at", "revoked_by"])
            ApiTokenEvent.objects.create(
                token=locked,
                tenant=tenant,
                action=TokenAction.REVOKED,
                actor=acting_member,
                token_prefix=locked.prefix,
                scopes=locked.scopes,
                via=via,
            )
    return locked


def authenticate_token(*, raw: str, tenant: Tenant | None) -> ApiToken:
    """The live token ``raw`` names on ``tenant``, or TokenRefused (unknown, wrong digest, revoked,
    expired, another tenant's, the root domain, an inactive member or one no longer in the tenant)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or tenant is None or tenant.kind != TenantKind.PARTNER:
        raise TokenRefused
    # One round trip: the token, its member and the member's membership here (the role checks that
    # follow read it from the memo instead of asking again).
    found = (
        ApiToken.objects.annotate(
            membership_here=FilteredRelation(
                "member__memberships", condition=Q(member__memberships__tenant_id=tenant.pk)
            )
        )
        .select_related("member", "membership_here")  # type: ignore[misc]  # stubs miss FilteredRelation aliases
        .filter(prefix=f"{parts[0]}_{parts[1]}")
        .order_by()[:1]  # the prefix is unique: no ordering to compile on every API request
    )
    token = next(iter(found), None)
    if token is None or not hmac.compare_digest(token.digest, digest_of(raw)):
        raise TokenRefused
    now = timezone.now()
    if token.revoked_at is not None or token.expires_at <= now or token.tenant_id != tenant.pk:
        raise TokenRefused
    member = token.member
    membership = getattr(token, "membership_here", None)
    if not member.is_active or membership is None:
        raise TokenRefused
    remember_membership(member=member, tenant=tenant, membership=membership)
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def erase_member_tokens(*, member: Member) -> None:
    """Privacy erasure: the member's own tokens go (with their audit rows); rows where they acted
    on others' tokens keep the event and lose the name."""
    ApiToken.objects.filter(member_id=member.pk).delete()
    ApiToken.objects.filter(created_by_id=member.pk).update(created_by=None)
    ApiToken.objects.filter(revoked_by_id=member.pk).update(revoked_by=None)
    ApiTokenEvent.objects.filter(actor_id=member.pk).update(actor=None)
    ServiceAccount.objects.filter(created_by_id=member.pk).update(created_by=None)
