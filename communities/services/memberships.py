"""Communities and membership: create and change communities, join, leave, decide join requests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from communities import notifications, safety
from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    CommunitySubscription,
    JoiningPolicy,
    ModerationActionKind,
    Visibility,
)
from communities.services.guards import _record_moderation, _require_moderator, _require_signed_in
from conditions.models import Condition
from core.errors import Conflict, InvalidInput, NotAllowed
from core.text import check_visible_text
from directory.services import publish_community, withdraw_community
from members.models import Member
from members.selectors import can_administer_tenant, membership_of
from members.services import join_tenant
from tenants.models import Tenant


def _clean_community_fields(
    *, name: str, slug: str, visibility: str, joining_policy: str, condition_ids: Iterable[int]
) -> tuple[str, str, list[int]]:
    name = " ".join((name or "").split())
    check_visible_text(name, field="name", label="A community name")
    if not 2 <= len(name) <= 120:
        raise InvalidInput(
            "A community name needs 2 to 120 characters.", code="name_length", details={"name": ["2–120 characters."]}
        )
    slug = (slug or "").strip()
    if not slug or slug != slugify(slug) or len(slug) > 120:
        raise InvalidInput("Use lower-case letters, digits and hyphens for the address.", code="slug_invalid")
    if visibility not in Visibility.values:
        raise InvalidInput(f"Visibility is one of: {', '.join(Visibility.values)}.", code="visibility_invalid")
    if joining_policy not in JoiningPolicy.values:
        raise InvalidInput(f"Joining is one of: {', '.join(JoiningPolicy.values)}.", code="joining_policy_invalid")
    wanted = sorted(set(condition_ids))
    found = set(Condition.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if len(found) != len(wanted):
        missing = ", ".join(str(pk) for pk in sorted(set(wanted) - found))
        raise InvalidInput(
            "Unknown condition.", code="condition_unknown", details={"condition_ids": [f"Unknown ids: {missing}."]}
        )
    return name, slug, wanted


def create_community(
    *,
    acting_member: Member,
    tenant: Tenant,
    name: str,
    slug: str,
    description: str = "",
    rules: str = "",
    condition_ids: Iterable[int] = (),
    visibility: str = Visibility.MEMBERS_ONLY,
    joining_policy: str = JoiningPolicy.OPEN,
    listed_in_directory: bool = True,
    premoderated_posts: int = 2,
) -> Community:
    """Tenant admins and platform superusers create communities."""
    _require_signed_in(acting_member)
    if not can_administer_tenant(member=acting_member, tenant=tenant):
        raise NotAllowed("Only this site's administrators can create communities.", code="not_admin")
    name, slug, condition_list = _clean_community_fields(
        name=name, slug=slug, visibility=visibility, joining_policy=joining_policy, condition_ids=condition_ids
    )
    if Community.objects.filter(slug=slug).exists():
        raise Conflict("A community already uses that address.", code="slug_taken")
    try:
        with transaction.atomic():
            community = Community.objects.create(
                name=name,
                slug=slug,
                description=description.strip(),
                rules=rules.strip(),
                visibility=visibility,
                joining_policy=joining_policy,
                listed_in_directory=listed_in_directory,
                premoderated_posts=_clean_premoderated(premoderated_posts),
            )
            community.conditions.set(condition_list)
            _sync_directory(tenant=tenant, community=community)
    except IntegrityError as error:  # a concurrent create with the same slug
        raise Conflict("A community already uses that address.", code="slug_taken") from error
    return community


def _sync_directory(*, tenant: Tenant, community: Community, old_slug: str | None = None) -> None:
    """Keep the platform directory (public schema) in step, in the caller's transaction: the root
    domain's "find your community" never reads tenant schemas at request time."""
    if old_slug and old_slug != community.slug:
        withdraw_community(tenant=tenant, community_slug=old_slug)
    if community.listed_in_directory:
        publish_community(
            tenant=tenant,
            community_slug=community.slug,
            name=community.name,
            description=community.description,
            condition_ids=community.conditions.values_list("pk", flat=True),
            visibility=community.visibility,
        )
    else:
        withdraw_community(tenant=tenant, community_slug=community.slug)


UPDATABLE_COMMUNITY_FIELDS = frozenset(
    {
        "name", "slug", "description", "rules", "condition_ids", "visibility", "joining_policy", "listed_in_directory",
        "premoderated_posts",
    }
)  # fmt: skip


def _clean_premoderated(value: Any) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = -1
    if not 0 <= count <= 50:
        raise InvalidInput(
            "Held first posts: a number from 0 to 50.",
            code="premoderated_invalid",
            details={"premoderated_posts": ["0–50."]},
        )
    return count


def update_community(*, acting_member: Member, tenant: Tenant, community: Community, **changes: Any) -> Community:
    """Change any of UPDATABLE_COMMUNITY_FIELDS (tenant admins and superusers)."""
    _require_signed_in(acting_member)
    if not can_administer_tenant(member=acting_member, tenant=tenant):
        raise NotAllowed("Only this site's administrators can change communities.", code="not_admin")
    unknown = set(changes) - UPDATABLE_COMMUNITY_FIELDS
    if unknown:
        raise InvalidInput(f"Cannot change: {', '.join(sorted(unknown))}.", code="field_unknown")
    current_conditions = list(community.conditions.values_list("pk", flat=True))
    name, slug, condition_list = _clean_community_fields(
        name=changes.get("name", community.name),
        slug=changes.get("slug", community.slug),
        visibility=changes.get("visibility", community.visibility),
        joining_policy=changes.get("joining_policy", community.joining_policy),
        condition_ids=changes.get("condition_ids", current_conditions),
    )
    if Community.objects.filter(slug=slug).exclude(pk=community.pk).exists():
        raise Conflict("A community already uses that address.", code="slug_taken")
    old_slug = community.slug
    with transaction.atomic():
        community.name = name
        community.slug = slug
        community.description = str(changes.get("description", community.description)).strip()
        community.rules = str(changes.get("rules", community.rules)).strip()
        community.visibility = changes.get("visibility", community.visibility)
        community.joining_policy = changes.get("joining_policy", community.joining_policy)
        community.listed_in_directory = bool(changes.get("listed_in_directory", community.listed_in_directory))
        community.premoderated_posts = _clean_premoderated(
            changes.get("premoderated_posts", community.premoderated_posts)
        )
        community.save()
        if "condition_ids" in changes:
            community.conditions.set(condition_list)
        _sync_directory(tenant=tenant, community=community, old_slug=old_slug)
    return community


def join_community(*, member: Member, tenant: Tenant, community: Community) -> CommunityMembership:
    """Join (open policy) or ask to join (approval policy). Idempotent.

    A verified member who has not joined this partner yet joins it on the way (one click, not two).
    """
    _require_signed_in(member)
    if not member.email_verified:
        raise NotAllowed("Verify your email address before joining.", code="email_unverified")
    safety.require_not_suspended(member=member, tenant=tenant)
    with transaction.atomic():
        if membership_of(member=member, tenant=tenant) is None:
            join_tenant(member=member, tenant=tenant)
        status = (
            CommunityMembershipStatus.ACTIVE
            if community.joining_policy == JoiningPolicy.OPEN
            else CommunityMembershipStatus.PENDING
        )
        membership, _ = CommunityMembership.objects.get_or_create(
            community=community, member=member, defaults={"status": status}
        )
    return membership


def leave_community(*, member: Member, tenant: Tenant, community: Community) -> None:
    """Leave (or withdraw a request). Idempotent. Community-level subscriptions go with it."""
    _require_signed_in(member)
    with transaction.atomic():
        CommunityMembership.objects.filter(community=community, member_id=member.pk).delete()
        CommunitySubscription.objects.filter(community=community, member_id=member.pk).delete()


def decide_join_request(
    *, acting_member: Member, tenant: Tenant, membership: CommunityMembership, approve: bool, reason: str = ""
) -> CommunityMembership | None:
    """Moderators approve (→ active) or refuse (→ request removed, returns None) a pending request."""
    _require_moderator(acting_member, tenant)
    with transaction.atomic():
        locked = CommunityMembership.objects.select_for_update().filter(pk=membership.pk).first()
        if locked is None or locked.status != CommunityMembershipStatus.PENDING:
            raise Conflict("That request was already decided.", code="request_decided")
        community = Community.objects.get(pk=locked.community_id)
        _record_moderation(
            kind=ModerationActionKind.JOIN_APPROVED if approve else ModerationActionKind.JOIN_REFUSED,
            actor=acting_member,
            subject_id=locked.member_id,
            community=community,
            summary=f"{'Approved' if approve else 'Refused'} a request to join {community.name}",
            reason=reason,
        )
        notifications.notify_join_decision(
            community=community, member_id=locked.member_id, approved=approve, actor=acting_member, reason=reason
        )
        if not approve:
            locked.delete()
            return None
        locked.status = CommunityMembershipStatus.ACTIVE
        locked.save(update_fields=["status"])
    return locked
