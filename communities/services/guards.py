"""Rules every write of this package checks first, shared limits and errors, and the moderation record."""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from communities import crisis, recruiting, safety, watched
from communities.models import (
    Community,
    ContentStatus,
    ModerationAction,
    Post,
    ReactionKind,
    ReviewItem,
    ReviewStatus,
    RiskLevel,
    TrustLevel,
)
from communities.permissions import (
    can_moderate,
    can_read_community,
    is_active_community_member,
)
from communities.tasks import send_welcome_email
from core.errors import DomainError, InvalidInput, NotAllowed
from core.text import check_visible_text
from members.models import Member, TenantMembership
from members.selectors import can_administer_tenant
from tenants.models import Tenant

TITLE_MIN = 3
TITLE_MAX = 200
BODY_MAX = 20_000
DEFAULT_POSTING_RATE = "10/10m"
REACTION_COUNTERS = {
    ReactionKind.HELPFUL: "helpful_count",
    ReactionKind.SAME_HERE: "same_here_count",
    ReactionKind.SENDING_SUPPORT: "support_count",
}
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class PostingRateLimited(DomainError):
    code = "posting_rate_limited"
    http_status = 429


class CommunityNotFound(DomainError):
    """Refusing to act on something the member cannot read looks exactly like it not existing."""

    code = "not_found"
    http_status = 404


def welcome_new_member(member: Member, tenant: Tenant) -> None:
    """After someone joins a partner, email them that partner's open communities (by Celery)."""

    def enqueue() -> None:
        # The tenant travels with the task: it must be sent from inside the tenant's context.
        with tenant_context(tenant):
            send_welcome_email.delay(member.pk)

    transaction.on_commit(enqueue)


# ---------------------------------------------------------------------------------------------
# Guards
# ---------------------------------------------------------------------------------------------


def _require_signed_in(member: Member) -> None:
    if not member.is_authenticated or not member.is_active:
        raise NotAllowed("Sign in first.", code="not_signed_in")


def _require_moderator(member: Member, tenant: Tenant) -> None:
    _require_signed_in(member)
    if not can_moderate(member=member, tenant=tenant):
        raise NotAllowed("Only this community's moderators can do that.", code="not_moderator")


def _require_participant(member: Member, community: Community) -> None:
    """Posting, reacting and proposing tags are for active members of the community."""
    _require_signed_in(member)
    if not is_active_community_member(member=member, community=community):
        raise NotAllowed(f"Join “{community.name}” to take part.", code="not_community_member")


def _require_reader(member: Member, tenant: Tenant, community: Community) -> None:
    if not can_read_community(member=member, tenant=tenant, community=community):
        raise CommunityNotFound("No such community.")


def _require_admin(member: Member, tenant: Tenant) -> None:
    _require_signed_in(member)
    if not can_administer_tenant(member=member, tenant=tenant):
        raise NotAllowed("Only this site's administrators can do that.", code="not_admin")


def _community_of(post: Post) -> Community:
    return Community.objects.get(topics__pk=post.topic_id)


def _record_moderation(
    *,
    kind: str,
    actor: Member | None,
    summary: str,
    subject_id: int | None = None,
    community: Community | None = None,
    topic_id: int | None = None,
    post_id: int | None = None,
    tag_id: int | None = None,
    reason: str = "",
    before_text: str = "",
    after_text: str = "",
) -> ModerationAction:
    """Append the audit row of a moderation decision (call inside the decision's transaction).
    ``actor`` None means the rules decided (enough flags hid a post)."""
    return ModerationAction.objects.create(
        kind=kind,
        actor_id=actor.pk if actor is not None else None,
        before_text=before_text,
        after_text=after_text,
        subject_id=subject_id,
        community=community,
        topic_id_ref=topic_id,
        post_id_ref=post_id,
        tag_id_ref=tag_id,
        reason=" ".join((reason or "").split())[:500],
        summary=summary[:300],
    )


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write something first.", code="body_empty", details={"body": ["Required."]})
    if len(body) > BODY_MAX:
        raise InvalidInput(
            f"Posts can be at most {BODY_MAX:,} characters.",
            code="body_too_long",
            details={"body": [f"At most {BODY_MAX} characters."]},
        )
    return body


def _clean_title(title: str) -> str:
    # Titles are plain text (escaped when shown); collapse whitespace so "   " is not a title.
    title = " ".join((title or "").split())
    check_visible_text(title, field="title", label="The title")
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise InvalidInput(
            f"A title needs {TITLE_MIN} to {TITLE_MAX} characters.",
            code="title_length",
            details={"title": [f"{TITLE_MIN}–{TITLE_MAX} characters."]},
        )
    return title


def parse_rate(rate: str) -> tuple[int, datetime.timedelta]:
    """Parse a rate such as "10/10m" into (10, 10 minutes). Units: s, m, h, d; "5/h" means 5 per hour."""
    match = _RATE_RE.match(rate)
    if not match:
        raise ValueError(f"KINDRED_POSTING_RATE must look like '10/10m', not {rate!r}.")
    count, amount, unit = match.groups()
    return int(count), datetime.timedelta(seconds=int(amount or 1) * _UNIT_SECONDS[unit])


def _check_posting_rate(member: Member, tenant: Tenant) -> None:
    """Topics and replies both count. Call inside the posting transaction, after locking the member's
    tenant membership row, so two simultaneous posts cannot both slip under the limit."""
    limit, window = parse_rate(getattr(settings, "KINDRED_POSTING_RATE", DEFAULT_POSTING_RATE))
    since = timezone.now() - window
    recent = list(
        Post.objects.filter(author_id=member.pk, created_at__gte=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        available_at = recent[-1] + window
        wait = max(1, int((available_at - timezone.now()).total_seconds() + 0.999))
        minutes, seconds = divmod(wait, 60)
        when = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
        raise PostingRateLimited(
            f"You're posting very quickly: at most {limit} posts in {_describe(window)}. You can post again in {when}.",
            details={"retry_after_seconds": wait, "available_at": available_at.isoformat()},
        )


def _describe(window: datetime.timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def needs_premoderation(*, member: Member, tenant: Tenant, community: Community) -> bool:
    """A member's first ``community.premoderated_posts`` posts in a community wait for a moderator
    (approved posts count; held ones don't). Moderators and trusted members never wait."""
    if community.premoderated_posts == 0 or can_moderate(member=member, tenant=tenant):
        return False
    if safety.trust_level(member=member) >= TrustLevel.TRUSTED:
        return False  # trusted members skip pre-moderation
    approved = Post.objects.filter(
        author_id=member.pk, topic__community_id=community.pk, status=ContentStatus.PUBLISHED
    ).count()
    return approved < community.premoderated_posts


def _queue_for_review(
    *, tenant: Tenant, post: Post, community: Community, held: bool, screening: watched.PostScreening, risk: int
) -> None:
    """Held posts (pre-moderation or a HOLD word), posts with a FLAG word and posts in crisis language
    wait in the review queue; at medium or high risk the on-call moderators are emailed at once."""
    by_words = screening.word_hold or screening.flag
    if not (held or by_words or risk or screening.recruiting):
        return
    reasons = (
        ([watched.WATCHED_WORD_REASON] if by_words else [])
        + ([recruiting.RECRUITING_REASON] if screening.recruiting else [])
        + ([crisis.CRISIS_REASON] if risk else [])
    )
    item = ReviewItem.objects.create(post=post, community=community, held=held, reasons=reasons, risk=risk)
    if risk >= RiskLevel.MEDIUM:
        crisis.alert_on_call(tenant=tenant, item_id=item.pk)


def _queue_edit_for_review(
    *, tenant: Tenant, post: Post, screening: watched.PostScreening, risk: int, previous_risk: int
) -> ReviewItem | None:
    """An edit that hit a HOLD or FLAG watched word or recruiting language, or that raised the post's
    crisis risk, puts the post in the review queue (its open item, or a new one). Crisis language
    rates the item as for a new post: at a newly reached medium or high risk the on-call moderators
    are emailed at once; an edit that keeps (or lowers) the risk alerts nobody again. Returns the
    item, or None when the edit needs no review. Call inside the edit's transaction."""
    raised = risk > previous_risk
    if not (screening.hold or screening.flag or raised):
        return None
    reasons = (
        ([watched.WATCHED_WORD_REASON] if screening.word_hold or screening.flag else [])
        + ([recruiting.RECRUITING_REASON] if screening.recruiting else [])
        + ([crisis.CRISIS_REASON] if raised else [])
    )
    item = ReviewItem.objects.select_for_update().filter(post_id=post.pk, status=ReviewStatus.OPEN).first()
    if item is None:
        item = ReviewItem.objects.create(post=post, community_id=post.topic.community_id)
    item.reasons = [*item.reasons, *(reason for reason in reasons if reason not in item.reasons)]
    fields = ["reasons"]
    alert = raised and risk > item.risk and risk >= RiskLevel.MEDIUM
    if raised and risk > item.risk:
        item.risk = risk
        fields.append("risk")
    if alert:
        # A higher risk than the moderators were told of is news: the alert goes out again, once.
        item.alerted_at = None
        fields.append("alerted_at")
    item.save(update_fields=fields)
    if alert:
        crisis.alert_on_call(tenant=tenant, item_id=item.pk)
    return item


def _lock_poster(member: Member, tenant: Tenant) -> None:
    # Serialises one member's posting within this tenant (the rate check reads, then we insert).
    TenantMembership.objects.select_for_update().filter(member_id=member.pk, tenant_id=tenant.pk).first()
