"""Writes for member identity: sign-up, verification, sign-in hand-off, sign-out, memberships, roles."""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_countries import countries
from django_tenants.utils import tenant_context

from config.errors import Conflict, InvalidInput, NotAllowed
from config.text import check_visible_text, collapse_whitespace, hidden_character_message
from members.models import (
    EmailNotifications,
    HandoffNonce,
    Member,
    MemberRole,
    MembershipRole,
    RoleChange,
    Sex,
    TenantMembership,
)
from tenants.models import Tenant, TenantKind

HANDOFF_SALT = "kindred.members.handoff"
JoinHook = Callable[[Member, Tenant], None]
_join_hooks: list[JoinHook] = []


def register_join_hook(hook: JoinHook) -> None:
    """Let a higher app act when someone joins a tenant (members knows no tenant feature itself)."""
    if hook not in _join_hooks:
        _join_hooks.append(hook)


MAX_AGE_YEARS = 120
VERIFY_SALT = "kindred.members.verify-email"
UNSUBSCRIBE_SALT = "kindred.members.unsubscribe"


def _validate_profile(
    *, role: str, birth_year: int | None, country: str, region: str, condition_ids: Iterable[int]
) -> dict[str, list[str]]:
    from conditions.models import Condition

    errors: dict[str, list[str]] = {}
    if role and role not in MemberRole.values:
        errors["role"] = [f"Choose one of: {', '.join(MemberRole.values)}."]
    this_year = timezone.now().year
    if birth_year is not None and not (this_year - MAX_AGE_YEARS <= birth_year <= this_year):
        errors["birth_year"] = [f"Enter a year between {this_year - MAX_AGE_YEARS} and {this_year}."]
    if country and country.upper() not in countries:
        errors["country"] = ["Choose a country from the list (ISO 3166 code)."]
    if len(region) > 100:
        errors["region"] = ["Use at most 100 characters."]
    ids = set(condition_ids)
    if ids and Condition.objects.filter(pk__in=ids).count() != len(ids):
        errors["conditions"] = ["Choose conditions from the taxonomy."]
    return errors


@transaction.atomic
def register_member(
    *,
    email: str,
    password: str,
    display_name: str = "",
    role: str = "",
    condition_ids: Iterable[int] = (),
    birth_year: int | None = None,
    country: str = "",
    region: str = "",
    signup_tenant: Tenant | None = None,
    next_url: str = "",
) -> Member:
    """Create an unverified member and email them a verification link (sent by Celery)."""
    email = (email or "").strip().lower()
    condition_ids = list(condition_ids)
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid email address."]
    if "email" not in errors and Member.objects.filter(email__iexact=email).exists():
        errors["email"] = ["An account with this email already exists. Sign in instead."]
    errors.update(
        _validate_profile(
            role=role, birth_year=birth_year, country=country, region=region.strip(), condition_ids=condition_ids
        )
    )
    display_name = collapse_whitespace(display_name)
    hidden = hidden_character_message(display_name)
    if hidden:
        errors["display_name"] = [hidden]
    candidate = Member(email=email, display_name=display_name)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", details=errors)
    try:
        member = Member.objects.create_user(
            email,
            password,
            display_name=display_name[:80],
            role=role,
            birth_year=birth_year,
            country=country.upper(),
            region=region.strip(),
            signup_tenant=signup_tenant if signup_tenant and signup_tenant.kind == TenantKind.PARTNER else None,
        )
    except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
        raise Conflict(
            "An account with this email already exists.", details={"email": ["Already registered."]}
        ) from exc
    if condition_ids:
        member.conditions.set(condition_ids)
    from members.tasks import send_verification_email

    transaction.on_commit(lambda: send_verification_email.delay(member.pk, next_url))
    return member


def make_verification_token(*, member: Member) -> str:
    return signing.dumps({"m": member.pk, "e": member.email}, salt=VERIFY_SALT)


def verify_email(*, token: str) -> tuple[Member, bool]:
    """Mark the member's email verified. Returns (member, first_time)."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidInput("This verification link has expired; ask for a new one.", code="link_expired") from exc
    except signing.BadSignature as exc:
        raise InvalidInput("This verification link is not valid.", code="link_invalid") from exc
    member = Member.objects.filter(pk=data["m"], email=data["e"], is_active=True).first()
    if member is None:
        raise InvalidInput("This verification link is not valid.", code="link_invalid")
    updated = Member.objects.filter(pk=member.pk, email_verified_at__isnull=True).update(
        email_verified_at=timezone.now()
    )
    member.refresh_from_db()
    if updated and member.signup_tenant_id:
        tenant = Tenant.objects.filter(pk=member.signup_tenant_id).first()
        if tenant is not None:
            join_tenant(member=member, tenant=tenant)
    return member, bool(updated)


def resend_verification_email(*, email: str, next_url: str = "") -> None:
    """Send again if such an unverified account exists; silent otherwise (no account probing)."""
    member = Member.objects.filter(email__iexact=(email or "").strip(), email_verified_at__isnull=True).first()
    if member is not None:
        from members.tasks import send_verification_email

        send_verification_email.delay(member.pk, next_url)


def issue_handoff_token(*, member: Member, host: str) -> str:
    """A signed, single-use, ~60 s token that lets ``host`` open its own session for ``member``."""
    from tenants.selectors import tenant_for_host

    tenant = tenant_for_host(host=host)
    if tenant is None or tenant.kind != TenantKind.PARTNER:
        raise InvalidInput("Unknown community address.", code="unknown_host")
    nonce = secrets.token_urlsafe(24)
    HandoffNonce.objects.create(nonce=nonce, member=member, host=host.lower())
    payload = {"m": member.pk, "h": host.lower(), "n": nonce, "g": member.session_generation}
    return signing.dumps(payload, salt=HANDOFF_SALT)


def redeem_handoff_token(*, token: str, host: str) -> Member:
    """Check and burn a hand-off token on the host it was issued for; returns the member to sign in."""
    try:
        data = signing.loads(token, salt=HANDOFF_SALT, max_age=settings.HANDOFF_TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidInput("The sign-in link expired. Please sign in again.", code="handoff_expired") from exc
    except signing.BadSignature as exc:
        raise InvalidInput("The sign-in link is not valid.", code="handoff_invalid") from exc
    if data.get("h") != host.lower():
        raise InvalidInput("The sign-in link was issued for another site.", code="handoff_wrong_host")
    burned = HandoffNonce.objects.filter(
        nonce=data["n"], member_id=data["m"], host=host.lower(), redeemed_at__isnull=True
    ).update(redeemed_at=timezone.now())
    if burned != 1:
        raise InvalidInput("The sign-in link was already used. Please sign in again.", code="handoff_used")
    member = Member.objects.filter(pk=data["m"], is_active=True).first()
    if member is None or member.session_generation != data["g"]:
        raise InvalidInput("You signed out since this link was made. Please sign in again.", code="handoff_stale")
    return member


def purge_spent_handoff_nonces(*, older_than: datetime.timedelta | None = None) -> int:
    cutoff = timezone.now() - (older_than or datetime.timedelta(hours=1))
    deleted, _ = HandoffNonce.objects.filter(issued_at__lt=cutoff).delete()
    return deleted


def sign_out_everywhere(*, member: Member) -> None:
    """End every session of the member on every host (root, subdomains, custom domains)."""
    Member.objects.filter(pk=member.pk).update(session_generation=F("session_generation") + 1)


def join_tenant(*, member: Member, tenant: Tenant) -> TenantMembership:
    """Join a partner community site (idempotent)."""
    if tenant.kind != TenantKind.PARTNER:
        raise InvalidInput("Only partner communities can be joined.", code="not_joinable")
    if not member.email_verified:
        raise NotAllowed("Verify your email address before joining.", code="email_unverified")
    with transaction.atomic():
        membership, created = TenantMembership.objects.get_or_create(member=member, tenant=tenant)
        if created:
            RoleChange.objects.create(
                membership_member=member, tenant=tenant, old_role="", new_role=MembershipRole.MEMBER, changed_by=member
            )
            for hook in _join_hooks:
                hook(member, tenant)
    return membership


def leave_tenant(*, member: Member, tenant: Tenant) -> None:
    with transaction.atomic():
        membership = TenantMembership.objects.select_for_update().filter(member=member, tenant=tenant).first()
        if membership is None:
            return
        RoleChange.objects.create(
            membership_member=member, tenant=tenant, old_role=membership.role, new_role="", changed_by=member
        )
        membership.delete()
        with tenant_context(tenant):
            from access.services import sync_member_role_groups

            sync_member_role_groups(member_id=member.pk, role=None)


def set_membership_role(
    *, acting_member: Member, tenant: Tenant, member: Member, role: str, reason: str = ""
) -> TenantMembership:
    """Grant or change a member's role in one tenant; keeps the tenant's groups in step."""
    from members.selectors import can_administer_tenant

    if role not in MembershipRole.values:
        raise InvalidInput(f"Choose one of: {', '.join(MembershipRole.values)}.", details={"role": ["Unknown role."]})
    if not can_administer_tenant(member=acting_member, tenant=tenant):
        raise NotAllowed("Only this community's administrators can change roles.")
    with transaction.atomic():
        membership = TenantMembership.objects.select_for_update().filter(member=member, tenant=tenant).first()
        if membership is None:
            raise InvalidInput("That person is not a member of this community.", code="not_a_member")
        old_role = membership.role
        if old_role != role:
            membership.role = role
            membership.save(update_fields=["role"])
            RoleChange.objects.create(
                membership_member=member,
                tenant=tenant,
                old_role=old_role,
                new_role=role,
                changed_by=acting_member,
                reason=reason[:300],
            )
        with tenant_context(tenant):
            from access.services import sync_member_role_groups

            sync_member_role_groups(member_id=member.pk, role=role)
    return membership


def update_profile(*, member: Member, **changes: Any) -> Member:
    allowed = {"display_name", "role", "birth_year", "country", "region", "condition_ids", "email_notifications", "sex"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
    condition_ids = changes.pop("condition_ids", None)
    merged = {
        "role": changes.get("role", member.role),
        "birth_year": changes.get("birth_year", member.birth_year),
        "country": str(changes.get("country", member.country) or ""),
        "region": str(changes.get("region", member.region) or "").strip(),
        "condition_ids": condition_ids or [],
    }
    errors = _validate_profile(**merged)
    if "display_name" in changes:
        changes["display_name"] = collapse_whitespace(changes["display_name"])
    hidden = hidden_character_message(changes.get("display_name", ""))
    if hidden:
        errors["display_name"] = [hidden]
    if changes.get("email_notifications", EmailNotifications.DIGEST) not in EmailNotifications.values:
        errors["email_notifications"] = [f"Choose one of: {', '.join(EmailNotifications.values)}."]
    if changes.get("sex", "") not in ("", *Sex.values):
        errors["sex"] = [f"Leave empty or choose one of: {', '.join(Sex.values)}."]
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", details=errors)
    with transaction.atomic():
        for field, value in changes.items():
            setattr(member, field, value.upper() if field == "country" and value else value)
        member.save()
        if condition_ids is not None:
            member.conditions.set(condition_ids)
    return member


def make_unsubscribe_token(*, member: Member) -> str:
    """A link token that stops notification emails without signing in (it never expires)."""
    return signing.dumps({"m": member.pk, "e": member.email}, salt=UNSUBSCRIBE_SALT)


def member_for_unsubscribe_token(*, token: str) -> Member:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature as exc:
        raise InvalidInput("This unsubscribe link is not valid.", code="link_invalid") from exc
    member = Member.objects.filter(pk=data.get("m"), email=data.get("e")).first()
    if member is None:
        raise InvalidInput("This unsubscribe link is not valid.", code="link_invalid")
    return member


def unsubscribe_from_emails(*, token: str) -> Member:
    """Stop every notification email of the member the token names (idempotent)."""
    member = member_for_unsubscribe_token(token=token)
    Member.objects.filter(pk=member.pk).update(email_notifications=EmailNotifications.OFF)
    member.email_notifications = EmailNotifications.OFF
    return member


PRIVACY_FLAGS = ("show_conditions", "show_location", "show_role", "listed_in_member_lists")


def update_privacy_settings(*, member: Member, **changes: Any) -> Member:
    """What my profile shows and whether I am listed (every flag defaults to the private choice)."""
    unknown = set(changes) - {*PRIVACY_FLAGS, "email_notifications"}
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
    errors: dict[str, list[str]] = {}
    for flag in PRIVACY_FLAGS:
        if flag in changes and not isinstance(changes[flag], bool):
            errors[flag] = ["Choose true or false."]
    if "email_notifications" in changes and changes["email_notifications"] not in EmailNotifications.values:
        errors["email_notifications"] = [f"Choose one of: {', '.join(EmailNotifications.values)}."]
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", details=errors)
    if changes:
        Member.objects.filter(pk=member.pk).update(**changes)
        for field, value in changes.items():
            setattr(member, field, value)
    return member


TENANT_NAME_RE = re.compile(r"^[\w .'\-]{2,80}$")


def set_tenant_display_name(*, member: Member, tenant: Tenant, display_name: str) -> TenantMembership:
    """My name in this tenant only (blank: my platform display name). Unique here, ignoring case."""
    name = " ".join((display_name or "").split())
    check_visible_text(name, field="display_name", label="A name")
    if name and not TENANT_NAME_RE.match(name):
        raise InvalidInput(
            "Use 2–80 letters, digits, spaces, dots, apostrophes, hyphens or underscores.",
            details={"display_name": ["Not a valid name."]},
        )
    with transaction.atomic():
        membership = (
            TenantMembership.objects.select_for_update().filter(member_id=member.pk, tenant_id=tenant.pk).first()
        )
        if membership is None:
            raise InvalidInput("Join this community site first.", code="not_a_member")
        taken = (
            name
            and TenantMembership.objects.filter(tenant_id=tenant.pk, display_name__iexact=name)
            .exclude(pk=membership.pk)
            .exists()
        )
        if taken:
            raise Conflict("Someone here already uses that name.", details={"display_name": ["Already taken here."]})
        membership.display_name = name
        try:
            with transaction.atomic():
                membership.save(update_fields=["display_name"])
        except IntegrityError as exc:  # a concurrent request took it first
            raise Conflict(
                "Someone here already uses that name.", details={"display_name": ["Already taken here."]}
            ) from exc
    return membership
