"""Writes for member identity: sign-up, verification, sign-in hand-off, sign-out, memberships, roles."""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Required, TypedDict, Unpack

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_countries import countries
from django_tenants.utils import tenant_context

from access.services import sync_member_role_groups
from conditions.models import Condition
from core.errors import Conflict, InvalidInput, NotAllowed
from core.text import check_visible_text, collapse_whitespace, hidden_character_message
from members import emails
from members.models import (
    EmailNotifications,
    HandoffNonce,
    Member,
    MemberRole,
    MembershipRole,
    PlatformSuspension,
    RoleChange,
    Sex,
    TenantInvitation,
    TenantMembership,
)
from members.names import name_skeleton, resembles_organization, sounds_official
from members.selectors import can_administer_tenant, forget_membership, local_id_of
from members.signup import run_signup_steps
from tenants.models import Tenant, TenantKind
from tenants.selectors import served_partner_domain

HANDOFF_SALT = "kindred.members.handoff"
JoinHook = Callable[[Member, Tenant], None]
_join_hooks: list[JoinHook] = []


def register_join_hook(hook: JoinHook) -> None:
    """Let a higher app act when someone joins a tenant (members knows no tenant feature itself)."""
    if hook not in _join_hooks:
        _join_hooks.append(hook)


MAX_AGE_YEARS = 120
VERIFY_SALT = "kindred.members.verify-email"
EMAIL_CHANGE_SALT = "kindred.members.email-change"
UNSUBSCRIBE_SALT = "kindred.members.unsubscribe"
INVITATION_SALT = "kindred.members.tenant-invitation"


def _platform_name_errors(display_name: str) -> dict[str, list[str]]:
    """The platform name shows on every partner where a member sets no name of their own, so it
    may not pass for staff or for any partner either."""
    name = " ".join((display_name or "").split())
    if not name:
        return {}
    partners = Tenant.objects.partners().values_list("name", "slug")
    return _reserved_name_errors(name=name, organization_names=[text for row in partners for text in row])


def _platform_name_taken_errors(*, member: Member, display_name: str) -> dict[str, list[str]]:
    """Where the member set no name of their own, their platform name is what others see: it may
    not read like someone else's name there either."""
    name = " ".join((display_name or "").split())
    if not name or name == member.display_name:
        return {}
    shown_there = TenantMembership.objects.filter(member_id=member.pk, display_name="").select_related("tenant")
    clashes = [
        m.tenant.name for m in shown_there if _taken_on_tenant(name=name, tenant=m.tenant, except_member_id=member.pk)
    ]
    if not clashes:
        return {}
    where = ", ".join(sorted(clashes))
    return {
        "display_name": [
            f"On {where} this name is the same as, or looks like, someone else's name. Choose another, "
            "or first set a name of your own there."
        ]
    }


def _validate_profile(
    *, role: str, birth_year: int | None, country: str, region: str, condition_ids: Iterable[int]
) -> dict[str, list[str]]:
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
    official_name_allowed: bool = False,
) -> Member | None:
    """Create an unverified member and email them a verification link (sent by Celery).

    If the address already has an account, nothing is created and its owner is emailed instead;
    returns None. The caller answers the same either way ("check your email"), and both paths hash
    a password, so neither the answer nor its timing tells a visitor whether someone has an account.

    ``official_name_allowed`` is for platform code creating a partner's real staff (the demo's
    "… moderator"); a person signing up never gets it.
    """
    email = (email or "").strip().lower()
    condition_ids = list(condition_ids)
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid email address."]
    errors.update(
        _validate_profile(
            role=role, birth_year=birth_year, country=country, region=region.strip(), condition_ids=condition_ids
        )
    )
    display_name = collapse_whitespace(display_name)
    hidden = hidden_character_message(display_name)
    if hidden:
        errors["display_name"] = [hidden]
    elif not official_name_allowed:
        errors.update(_platform_name_errors(display_name))
    candidate = Member(email=email, display_name=display_name)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", details=errors)
    # cycle: members.services -> members.tasks -> members.services
    from members.tasks import (  # noqa: PLC0415
        send_signup_attempt_email,
        send_verification_email,
    )

    existing = Member.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                member = Member.objects.create_user(
                    email,
                    password,
                    display_name=display_name.strip()[:80],
                    role=role,
                    birth_year=birth_year,
                    country=country.upper(),
                    region=region.strip(),
                    signup_tenant=signup_tenant if signup_tenant and signup_tenant.kind == TenantKind.PARTNER else None,
                )
        except IntegrityError:  # a concurrent sign-up with the same email won the race
            existing = Member.objects.filter(email__iexact=email).first()
            if existing is None:
                raise
        else:
            if condition_ids:
                member.conditions.set(condition_ids)
            transaction.on_commit(lambda: send_verification_email.delay(member.pk, next_url))
            return member
    # The same cost as creating the account (hashing dominates), and the owner hears of it.
    make_password(password)
    existing_id = existing.pk
    transaction.on_commit(lambda: send_signup_attempt_email.delay(existing_id))
    return None


class SignUpProfile(TypedDict, total=False):
    """What a person may say about themselves when signing up (see ``register_member``)."""

    email: Required[str]
    password: Required[str]
    display_name: str
    role: str
    condition_ids: Iterable[int]
    birth_year: int | None
    country: str
    region: str


def sign_up(
    *,
    signup_tenant: Tenant | None = None,
    next_url: str = "",
    step_data: Mapping[str, Any],
    channel: str,
    **profile: Unpack[SignUpProfile],
) -> Member | None:
    """A person signs up (the web form or the API): the account (see ``register_member``) and the
    steps higher apps joined (consent records, ...) in one transaction, so neither exists alone.

    ``step_data`` holds the answers to the steps' own fields; ``channel`` says where they were given."""
    with transaction.atomic():
        member = register_member(**profile, signup_tenant=signup_tenant, next_url=next_url)
        if member is not None:
            run_signup_steps(member=member, data=dict(step_data), channel=channel, tenant=signup_tenant)
    return member


def set_password(*, member: Member, password: str) -> Member:
    """Set a new password and end every session of the member on every host (the session generation).

    The caller that should stay signed in (the page or API call that changed it) stores the new
    generation in its own session."""
    with transaction.atomic():
        member.set_password(password)
        member.save(update_fields=["password"])
        Member.objects.filter(pk=member.pk).update(session_generation=F("session_generation") + 1)
    member.refresh_from_db(fields=["session_generation"])
    return member


def change_password(*, member: Member, current_password: str, new_password: str) -> Member:
    errors: dict[str, list[str]] = {}
    if not member.check_password(current_password or ""):
        errors["current_password"] = ["That is not your current password."]
    try:
        password_validation.validate_password(new_password, user=member)
    except ValidationError as exc:
        errors["new_password"] = list(exc.messages)
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", details=errors)
    return set_password(member=member, password=new_password)


def request_email_change(*, member: Member, new_email: str, password: str) -> None:
    """Email a confirmation link to the new address; the account keeps the old one until it is opened.

    If the new address belongs to another account, that address is told instead, and the caller
    answers exactly as on success (no enumeration through email change)."""
    new_email = (new_email or "").strip().lower()
    errors: dict[str, list[str]] = {}
    try:
        validate_email(new_email)
    except ValidationError:
        errors["new_email"] = ["Enter a valid email address."]
    else:
        if new_email == member.email.lower():
            errors["new_email"] = ["That is already your email address."]
    if not member.check_password(password or ""):
        errors["password"] = ["That is not your current password."]
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", details=errors)
    # cycle: members.services -> members.tasks -> members.services
    from members.tasks import (  # noqa: PLC0415
        send_email_change_link,
        send_email_in_use_notice,
    )

    if Member.objects.filter(email__iexact=new_email).exclude(pk=member.pk).exists():
        transaction.on_commit(lambda: send_email_in_use_notice.delay(new_email))
        return
    token = signing.dumps({"m": member.pk, "o": member.email, "n": new_email}, salt=EMAIL_CHANGE_SALT)
    member_id = member.pk
    transaction.on_commit(lambda: send_email_change_link.delay(member_id, new_email, token))


def confirm_email_change(*, token: str) -> Member:
    """Switch the account to the new address the link proves; the old address is told.

    The link works once: it names the old address, which no longer matches afterwards. It never signs
    anyone in."""
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidInput(
            "This confirmation link has expired; ask for the change again.", code="link_expired"
        ) from exc
    except signing.BadSignature as exc:
        raise InvalidInput("This confirmation link is not valid.", code="link_invalid") from exc
    with transaction.atomic():
        member = Member.objects.select_for_update().filter(pk=data["m"], email=data["o"], is_active=True).first()
        if member is None:
            raise InvalidInput("This confirmation link was already used or is no longer valid.", code="link_used")
        if Member.objects.filter(email__iexact=data["n"]).exclude(pk=member.pk).exists():
            raise Conflict("That address now belongs to another account.", code="email_taken")
        old_email = member.email
        member.email = data["n"]
        member.email_verified_at = timezone.now()
        try:
            with transaction.atomic():
                member.save(update_fields=["email", "email_verified_at"])
        except IntegrityError as exc:
            raise Conflict("That address now belongs to another account.", code="email_taken") from exc
        new_email = member.email
        # cycle: members.services -> members.tasks -> members.services
        from members.tasks import send_email_changed_notice  # noqa: PLC0415

        transaction.on_commit(lambda: send_email_changed_notice.delay(old_email, new_email))
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
        # cycle: members.services -> members.tasks -> members.services
        from members.tasks import send_verification_email  # noqa: PLC0415

        send_verification_email.delay(member.pk, next_url)


def issue_handoff_token(*, member: Member, host: str, mfa: bool = False) -> str:
    """A signed, single-use, ~60 s token that lets ``host`` open its own session for ``member``.

    ``host`` must name a partner's Domain row exactly (no port, no userinfo, no lookalike).
    """
    domain = served_partner_domain(host=host)
    if domain is None:
        raise InvalidInput("Unknown community address.", code="unknown_host")
    nonce = secrets.token_urlsafe(24)
    HandoffNonce.objects.create(nonce=nonce, member=member, host=domain.domain)
    payload = {"m": member.pk, "h": domain.domain, "n": nonce, "g": member.session_generation}
    if mfa:  # the root session passed two-factor: the partner host's session inherits it
        payload["a"] = 1
    return signing.dumps(payload, salt=HANDOFF_SALT)


def handoff_passed_mfa(*, token: str) -> bool:
    """Whether a (redeemed, so already checked) hand-off token says the root session passed two-factor."""
    try:
        return bool(signing.loads(token, salt=HANDOFF_SALT).get("a"))
    except signing.BadSignature:
        return False


def _read_handoff_token(*, token: str, host: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = signing.loads(token, salt=HANDOFF_SALT, max_age=settings.HANDOFF_TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidInput("The sign-in link expired. Please sign in again.", code="handoff_expired") from exc
    except signing.BadSignature as exc:
        raise InvalidInput("The sign-in link is not valid.", code="handoff_invalid") from exc
    if data.get("h") != host.lower():
        raise InvalidInput("The sign-in link was issued for another site.", code="handoff_wrong_host")
    return data


def _handoff_member(data: dict[str, Any]) -> Member:
    member = Member.objects.filter(pk=data["m"], is_active=True).first()
    if member is None or member.session_generation != data["g"]:
        raise InvalidInput("You signed out since this link was made. Please sign in again.", code="handoff_stale")
    return member


def _handoff_used() -> InvalidInput:
    return InvalidInput("The sign-in link was already used. Please sign in again.", code="handoff_used")


def peek_handoff_token(*, token: str, host: str) -> Member:
    """The member a still-valid hand-off token names, without using it up (to ask before switching)."""
    data = _read_handoff_token(token=token, host=host)
    unused = HandoffNonce.objects.filter(
        nonce=data["n"], member_id=data["m"], host=host.lower(), redeemed_at__isnull=True
    ).exists()
    if not unused:
        raise _handoff_used()
    return _handoff_member(data)


def redeem_handoff_token(*, token: str, host: str) -> Member:
    """Check and burn a hand-off token on the host it was issued for; returns the member to sign in."""
    data = _read_handoff_token(token=token, host=host)
    burned = HandoffNonce.objects.filter(
        nonce=data["n"], member_id=data["m"], host=host.lower(), redeemed_at__isnull=True
    ).update(redeemed_at=timezone.now())
    if burned != 1:
        raise _handoff_used()
    return _handoff_member(data)


def purge_spent_handoff_nonces(*, older_than: datetime.timedelta | None = None) -> int:
    cutoff = timezone.now() - (older_than or datetime.timedelta(hours=1))
    deleted, _ = HandoffNonce.objects.filter(issued_at__lt=cutoff).delete()
    return deleted


def sign_out_everywhere(*, member: Member) -> None:
    """End every session of the member on every host (root, subdomains, custom domains)."""
    Member.objects.filter(pk=member.pk).update(session_generation=F("session_generation") + 1)


def join_tenant(*, member: Member, tenant: Tenant) -> TenantMembership:
    """Join a partner community site (idempotent)."""
    forget_membership(member=member)
    if tenant.kind != TenantKind.PARTNER:
        raise InvalidInput("Only partner communities can be joined.", code="not_joinable")
    if not member.email_verified:
        raise NotAllowed("Verify your email address before joining.", code="email_unverified")
    with transaction.atomic():
        membership, created = TenantMembership.objects.get_or_create(
            member=member, tenant=tenant, defaults={"local_id": local_id_of(member, tenant=tenant)}
        )
        if created:
            RoleChange.objects.create(
                membership_member=member, tenant=tenant, old_role="", new_role=MembershipRole.MEMBER, changed_by=member
            )
            for hook in _join_hooks:
                hook(member, tenant)
    return membership


def leave_tenant(*, member: Member, tenant: Tenant) -> None:
    forget_membership(member=member)
    with transaction.atomic():
        membership = TenantMembership.objects.select_for_update().filter(member=member, tenant=tenant).first()
        if membership is None:
            return
        RoleChange.objects.create(
            membership_member=member, tenant=tenant, old_role=membership.role, new_role="", changed_by=member
        )
        membership.delete()
        with tenant_context(tenant):
            sync_member_role_groups(member_id=member.pk, role=None)


def set_membership_role(
    *, acting_member: Member, tenant: Tenant, member: Member, role: str, reason: str = ""
) -> TenantMembership:
    """Grant or change a member's role in one tenant; keeps the tenant's groups in step."""
    forget_membership(member=member)
    forget_membership(member=acting_member)  # the same person, maybe as another instance
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
        hidden = hidden_character_message(changes["display_name"])
        if hidden:
            errors["display_name"] = [hidden]
        else:
            errors.update(
                _platform_name_errors(str(changes["display_name"] or ""))
                or _platform_name_taken_errors(member=member, display_name=str(changes["display_name"] or ""))
            )
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
NAME_OFFICIAL_MESSAGE = (
    "Names that read as staff or as the community itself (moderator, admin, staff, team, official, "
    "Kindred, the partner's name) are reserved. Please choose a personal name."
)
NAME_TAKEN_MESSAGE = "That name is the same as, or looks like, the name of someone here. Please choose another."


def _reserved_name_errors(*, name: str, organization_names: Iterable[str]) -> dict[str, list[str]]:
    if name and (sounds_official(name) or resembles_organization(name, organization_names=organization_names)):
        return {"display_name": [NAME_OFFICIAL_MESSAGE]}
    return {}


def _taken_on_tenant(*, name: str, tenant: Tenant, except_member_id: int) -> bool:
    """Does ``name`` read like the name another member shows on ``tenant`` (their name here, or
    their platform name, which shows when they set none)?"""
    skeleton = name_skeleton(name)
    others = (
        TenantMembership.objects.filter(tenant_id=tenant.pk)
        .exclude(member_id=except_member_id)
        .values_list("display_name", "member__display_name")
        .iterator(chunk_size=2000)
    )
    return any(skeleton in (name_skeleton(here), name_skeleton(platform)) for here, platform in others)


def set_tenant_display_name(*, member: Member, tenant: Tenant, display_name: str) -> TenantMembership:
    """My name in this tenant only (blank: my platform display name).

    It may not pass for staff or the partner, nor read like another member's name here (compared
    by skeleton: case, spacing, punctuation and look-alike letters ignored)."""
    forget_membership(member=member)
    name = " ".join((display_name or "").split())
    check_visible_text(name, field="display_name", label="A name")
    if name and not TENANT_NAME_RE.match(name):
        raise InvalidInput(
            "Use 2–80 letters, digits, spaces, dots, apostrophes, hyphens or underscores.",
            details={"display_name": ["Not a valid name."]},
        )
    reserved = _reserved_name_errors(name=name, organization_names=(tenant.name, tenant.slug))
    if reserved:
        raise InvalidInput(NAME_OFFICIAL_MESSAGE, code="name_reserved", details=reserved)
    with transaction.atomic():
        membership = (
            TenantMembership.objects.select_for_update().filter(member_id=member.pk, tenant_id=tenant.pk).first()
        )
        if membership is None:
            raise InvalidInput("Join this community site first.", code="not_a_member")
        if name and _taken_on_tenant(name=name, tenant=tenant, except_member_id=member.pk):
            raise Conflict(NAME_TAKEN_MESSAGE, code="name_taken", details={"display_name": [NAME_TAKEN_MESSAGE]})
        membership.display_name = name
        try:
            with transaction.atomic():
                membership.save(update_fields=["display_name"])
        except IntegrityError as exc:  # a concurrent request took it first
            raise Conflict(
                NAME_TAKEN_MESSAGE, code="name_taken", details={"display_name": [NAME_TAKEN_MESSAGE]}
            ) from exc
    return membership


def refresh_local_member_ids(*, batch_size: int = 1000) -> int:
    """Recompute every stored per-tenant member id (after KINDRED_MEMBER_ID_KEY changed); returns
    how many changed."""
    changed = 0
    memberships = TenantMembership.objects.select_related("member", "tenant").order_by("pk")
    for membership in memberships.iterator(chunk_size=batch_size):
        local_id = local_id_of(membership.member, tenant=membership.tenant)
        if membership.local_id != local_id:
            TenantMembership.objects.filter(pk=membership.pk).update(local_id=local_id)
            changed += 1
    return changed


SERVICE_EMAIL_DOMAIN = "service.kindred.invalid"


def create_service_member(*, acting_member: Member, tenant: Tenant, name: str, role: str) -> Member:
    """A non-human principal for a partner's own systems: a member of ``tenant`` only, with no
    password (it can never sign in on the web), no email and no place in member lists. Only the
    tenant's administrators create one; its role is granted and audited like anyone's."""
    if not can_administer_tenant(member=acting_member, tenant=tenant):
        raise NotAllowed("Only this community's administrators can create service tokens.")
    if tenant.kind != TenantKind.PARTNER:
        raise InvalidInput("Service tokens belong to a partner community.", code="not_joinable")
    name = (name or "").strip()[:80]
    with transaction.atomic():
        member = Member.objects.create_user(
            f"{secrets.token_hex(12)}@{SERVICE_EMAIL_DOMAIN}",
            None,
            display_name=f"{name} (service)"[:80],
            email_verified_at=timezone.now(),
            email_notifications=EmailNotifications.OFF,
        )
        TenantMembership.objects.create(member=member, tenant=tenant, local_id=local_id_of(member, tenant=tenant))
        RoleChange.objects.create(
            membership_member=member,
            tenant=tenant,
            old_role="",
            new_role=MembershipRole.MEMBER,
            changed_by=acting_member,
            reason="service principal",
        )
        if role != MembershipRole.MEMBER:
            set_membership_role(
                acting_member=acting_member, tenant=tenant, member=member, role=role, reason="service principal"
            )
    return member


def invite_to_tenant(
    *, tenant: Tenant, email: str, role: str = MembershipRole.ADMIN, invited_by: Member | None = None
) -> TenantInvitation:
    """Invite someone (member or not yet) to a tenant with a role; the signed link is emailed after commit.

    Inviting the same address again while an earlier invitation is open reuses it (and sends it again).
    """
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput("Enter a valid email address.", details={"email": ["Enter a valid email address."]}) from exc
    if role not in MembershipRole.values:
        raise InvalidInput("Unknown role.", details={"role": ["Unknown role."]})
    if tenant.kind != TenantKind.PARTNER:
        raise InvalidInput("Only partner communities take invitations.", code="not_joinable")
    with transaction.atomic():
        invitation = TenantInvitation.objects.filter(
            tenant=tenant, email=email, role=role, accepted_at__isnull=True
        ).first()
        if invitation is None:
            invitation = TenantInvitation.objects.create(
                tenant=tenant, email=email, role=role, nonce=secrets.token_urlsafe(24), invited_by=invited_by
            )
        # cycle: members.services -> members.tasks -> members.services
        from members.tasks import send_tenant_invitation  # noqa: PLC0415

        invitation_id = invitation.pk
        transaction.on_commit(lambda: send_tenant_invitation.delay(invitation_id))
    return invitation


def make_invitation_token(*, invitation: TenantInvitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT)


def invitation_for_token(*, token: str) -> TenantInvitation:
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=settings.TENANT_INVITATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidInput(
            "This invitation has expired. Ask the platform team for a new one.", code="invitation_expired"
        ) from exc
    except signing.BadSignature as exc:
        raise InvalidInput("This invitation link is not valid.", code="invitation_invalid") from exc
    invitation = TenantInvitation.objects.select_related("tenant").filter(pk=data["i"], nonce=data["n"]).first()
    if invitation is None:
        raise InvalidInput("This invitation link is not valid.", code="invitation_invalid")
    return invitation


def accept_tenant_invitation(*, token: str, member: Member) -> TenantMembership:
    """Make the signed-in invitee a member of the tenant with the invited role (single use)."""
    forget_membership(member=member)
    invitation = invitation_for_token(token=token)
    if invitation.accepted_at is not None:
        if invitation.accepted_by_id == member.pk:
            return TenantMembership.objects.get(member=member, tenant=invitation.tenant)
        raise InvalidInput("This invitation was already used.", code="invitation_used")
    if member.email.lower() != invitation.email:
        raise NotAllowed(
            f"This invitation was sent to {invitation.email}. Sign in with that address to accept it.",
            code="invitation_other_email",
        )
    if not member.email_verified:
        # The invitation reached this address, which proves it as well as our own link would.
        Member.objects.filter(pk=member.pk, email_verified_at__isnull=True).update(email_verified_at=timezone.now())
        member.refresh_from_db()
    tenant = invitation.tenant
    with transaction.atomic():
        burned = TenantInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=member
        )
        if burned != 1:
            raise InvalidInput("This invitation was already used.", code="invitation_used")
        membership = join_tenant(member=member, tenant=tenant)
        membership = TenantMembership.objects.select_for_update().get(pk=membership.pk)
        if membership.role != invitation.role:
            RoleChange.objects.create(
                membership_member=member,
                tenant=tenant,
                old_role=membership.role,
                new_role=invitation.role,
                changed_by=invitation.invited_by,
                reason=f"Accepted invitation {invitation.pk}",
            )
            membership.role = invitation.role
            membership.save(update_fields=["role"])
        with tenant_context(tenant):
            sync_member_role_groups(member_id=member.pk, role=membership.role)
    return membership


SUSPENSION_REASON_MAX = 500
SUSPENSION_DAYS_MAX = 3650


def check_platform_suspension(*, acting_member: Member, member: Member, reason: str, days: int | None) -> str:
    """Refuse a suspension that can't be made (the cleaned reason otherwise); forms call it to show why."""
    if not (acting_member.is_authenticated and acting_member.is_active and acting_member.is_staff):
        raise NotAllowed("Only platform staff can suspend a member platform-wide.", code="not_staff")
    if member.pk == acting_member.pk:
        raise InvalidInput("You can't suspend yourself.", code="suspend_self")
    if member.is_staff or member.is_superuser:
        raise InvalidInput(
            "Platform staff can't be suspended here; remove their staff status first.", code="suspend_staff"
        )
    reason = collapse_whitespace(reason or "")[:SUSPENSION_REASON_MAX]
    if len(reason) < 3:
        raise InvalidInput(
            "Say why: the member will read it.", code="reason_required", details={"reason": ["Required."]}
        )
    if days is not None and not 1 <= int(days) <= SUSPENSION_DAYS_MAX:
        raise InvalidInput(
            f"Days: a number from 1 to {SUSPENSION_DAYS_MAX}, or none for until lifted.",
            code="days_invalid",
            details={"days": [f"1–{SUSPENSION_DAYS_MAX}."]},
        )
    return reason


def suspend_platform_wide(
    *, acting_member: Member, member: Member, reason: str, days: int | None = None
) -> PlatformSuspension:
    """Platform staff suspend a member on every partner for ``days`` (None: until lifted).

    The member keeps their account and data, can sign in, read and export it; nothing else. They are
    emailed the reason and the end date. The row is the record (lifting fills ``lifted_at``)."""
    if not (acting_member.is_authenticated and acting_member.is_active and acting_member.is_staff):
        raise NotAllowed("Only platform staff can suspend a member platform-wide.", code="not_staff")
    if member.pk == acting_member.pk:
        raise InvalidInput("You can't suspend yourself.", code="suspend_self")
    if member.is_staff or member.is_superuser:
        raise InvalidInput(
            "Platform staff can't be suspended here; remove their staff status first.", code="suspend_staff"
        )
    reason = collapse_whitespace(reason or "")[:SUSPENSION_REASON_MAX]
    if len(reason) < 3:
        raise InvalidInput(
            "Say why: the member will read it.", code="reason_required", details={"reason": ["Required."]}
        )
    if days is not None and not 1 <= int(days) <= SUSPENSION_DAYS_MAX:
        raise InvalidInput(
            f"Days: a number from 1 to {SUSPENSION_DAYS_MAX}, or none for until lifted.", code="days_invalid"
        )
    now = timezone.now()
    ends_at = now + datetime.timedelta(days=int(days)) if days is not None else None
    with transaction.atomic():
        PlatformSuspension.objects.filter(member_id=member.pk, lifted_at__isnull=True).update(
            lifted_at=now, lifted_by=acting_member
        )
        suspension = PlatformSuspension.objects.create(
            member=member, reason=reason, starts_at=now, ends_at=ends_at, created_by=acting_member
        )
        transaction.on_commit(
            lambda: emails.send_platform_suspension_notice(email=member.email, reason=reason, ends_at=ends_at)
        )
    return suspension


def lift_platform_suspension(*, acting_member: Member, member: Member) -> int:
    """Platform staff end a member's platform-wide suspension now; returns how many were lifted."""
    if not (acting_member.is_authenticated and acting_member.is_active and acting_member.is_staff):
        raise NotAllowed("Only platform staff can lift a platform-wide suspension.", code="not_staff")
    with transaction.atomic():
        return PlatformSuspension.objects.filter(member_id=member.pk, lifted_at__isnull=True).update(
            lifted_at=timezone.now(), lifted_by=acting_member
        )
