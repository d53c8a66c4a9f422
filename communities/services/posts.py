"""Writes for communities (tenant schema).

Every function validates and checks permissions before it writes, writes in one transaction, and
raises a domain exception (core.errors) with a code when it refuses: a refused call changes nothing.
Call them inside the tenant's context (the middleware's, or ``tenant_context`` elsewhere).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django_tenants.utils import tenant_context

from communities import crisis, notifications, recruiting, safety, watched, wording
from communities.markdown import render_markdown
from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    CommunitySubscription,
    ContentStatus,
    JoiningPolicy,
    ModerationAction,
    ModerationActionKind,
    Notification,
    NotificationKind,
    Post,
    PostRevision,
    Reaction,
    ReactionKind,
    ReviewItem,
    ReviewStatus,
    RiskLevel,
    SearchSynonym,
    Tag,
    TagKind,
    TagStatus,
    Topic,
    TopicKind,
    TopicSubscription,
    TrustLevel,
    Visibility,
    WatchLevel,
)
from communities.permissions import (
    can_moderate,
    can_read_community,
    is_active_community_member,
    is_author,
    may_take_down_post,
    within_edit_window,
)
from communities.search import index_posts, refresh_search_vectors
from communities.tasks import send_welcome_email
from conditions.models import Condition
from config.text import check_visible_text
from core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from directory.services import publish_community, withdraw_community
from members.models import Member, TenantMembership
from members.selectors import can_administer_tenant, membership_of, tenant_name_of
from members.services import join_tenant
from tenants.models import Tenant
from tenants.selectors import current_tenant
from trials.selectors import get_trial

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


def _lock_poster(member: Member, tenant: Tenant) -> None:
    # Serialises one member's posting within this tenant (the rate check reads, then we insert).
    TenantMembership.objects.select_for_update().filter(member_id=member.pk, tenant_id=tenant.pk).first()


# ---------------------------------------------------------------------------------------------
# Communities and membership
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------------


def _clean_tag(kind: str, name: str, *, field: str = "name") -> tuple[str, str]:
    name = " ".join((name or "").split())
    slug = slugify(name)[:60]
    if kind not in TagKind.values:
        raise InvalidInput(
            f"Tag kind is one of: {', '.join(TagKind.values)}.",
            code="tag_kind_invalid",
            details={"kind": ["Unknown kind."]},
        )
    check_visible_text(name, field=field, label="A tag name")
    if not 2 <= len(name) <= 60 or not slug:
        raise InvalidInput(
            "A tag needs 2 to 60 characters, including letters or digits.",
            code="tag_invalid",
            details={field: ["2–60 characters, including letters or digits."]},
        )
    return name, slug


def create_tag(*, acting_member: Member, tenant: Tenant, community: Community, kind: str, name: str) -> Tag:
    """Moderators add a curated tag; a proposed tag of the same name becomes curated."""
    _require_moderator(acting_member, tenant)
    name, slug = _clean_tag(kind, name)
    with transaction.atomic():
        tag, created = Tag.objects.select_for_update().get_or_create(
            community=community, kind=kind, slug=slug, defaults={"name": name, "status": TagStatus.CURATED}
        )
        if not created and tag.status == TagStatus.MERGED:
            raise Conflict("That tag was merged into another one.", code="tag_merged")
        if tag.status != TagStatus.CURATED:
            tag.status = TagStatus.CURATED
            tag.save(update_fields=["status"])
            # Now public: its topics become findable by its name.
            refresh_search_vectors(topic_ids=tag.topics.values_list("pk", flat=True))
        if created or tag.proposed_by_id is not None:
            _record_moderation(
                kind=ModerationActionKind.TAG_CURATED,
                actor=acting_member,
                subject_id=tag.proposed_by_id,
                community=community,
                tag_id=tag.pk,
                summary=f"Curated the {tag.kind} tag “{tag.name}”",
            )
    return tag


def _propose(*, member: Member, community: Community, kind: str, name: str) -> Tag:
    name, slug = _clean_tag(kind, name)
    tag, _ = Tag.objects.get_or_create(
        community=community,
        kind=kind,
        slug=slug,
        defaults={"name": name, "status": TagStatus.PROPOSED, "proposed_by": member},
    )
    # Proposing a name that was merged away means the tag it now lives under.
    return tag.merged_into if tag.status == TagStatus.MERGED and tag.merged_into else tag


def propose_tag(*, acting_member: Member, tenant: Tenant, community: Community, kind: str, name: str) -> Tag:
    """Members propose tags; moderators curate or merge them. Returns the existing tag if any."""
    _require_participant(acting_member, community)
    safety.require_may_post(member=acting_member, tenant=tenant)
    with transaction.atomic():
        return _propose(member=acting_member, community=community, kind=kind, name=name)


def merge_tags(*, acting_member: Member, tenant: Tenant, source: Tag, target: Tag) -> Tag:
    """Moderators merge ``source`` into ``target``: its topics are retagged, it is marked MERGED."""
    _require_moderator(acting_member, tenant)
    if source.pk == target.pk:
        raise InvalidInput("Choose two different tags.", code="tag_same")
    if source.community_id != target.community_id:
        raise InvalidInput("Both tags must belong to the same community.", code="tag_other_community")
    if target.status == TagStatus.MERGED:
        raise InvalidInput("Merge into a tag that is still in use.", code="tag_merged")
    through = Tag.topics.through
    with transaction.atomic():
        topic_ids = list(through.objects.filter(tag_id=source.pk).values_list("topic_id", flat=True))
        through.objects.bulk_create(
            [through(topic_id=topic_id, tag_id=target.pk) for topic_id in topic_ids], ignore_conflicts=True
        )
        through.objects.filter(tag_id=source.pk).delete()
        refresh_search_vectors(topic_ids=topic_ids)
        Tag.objects.filter(merged_into_id=source.pk).update(merged_into_id=target.pk)
        source.status = TagStatus.MERGED
        source.merged_into = target
        source.save(update_fields=["status", "merged_into"])
        if target.status == TagStatus.PROPOSED:
            target.status = TagStatus.CURATED
            target.save(update_fields=["status"])
            refresh_search_vectors(topic_ids=target.topics.values_list("pk", flat=True))
        _record_moderation(
            kind=ModerationActionKind.TAG_MERGED,
            actor=acting_member,
            subject_id=source.proposed_by_id,
            community=Community.objects.get(pk=target.community_id),
            tag_id=target.pk,
            summary=f"Merged the tag “{source.name}” into “{target.name}” ({len(topic_ids)} topics retagged)",
        )
    return target


# ---------------------------------------------------------------------------------------------
# Topics and posts
# ---------------------------------------------------------------------------------------------


def create_topic(
    *,
    acting_member: Member,
    tenant: Tenant,
    community: Community,
    kind: str,
    title: str,
    body: str,
    tag_ids: Iterable[int] = (),
    proposed_tag_names: Sequence[str] = (),
    platform_text: bool = False,
) -> Topic:
    """Start a question or an update. ``proposed_tag_names`` become PROPOSED topic-kind tags.

    The author watches their own topic (so they hear of every reply, even after changing it).
    """
    _require_participant(acting_member, community)
    safety.require_may_post(member=acting_member, tenant=tenant)
    if kind not in TopicKind.values:
        raise InvalidInput(f"Kind is one of: {', '.join(TopicKind.values)}.", code="kind_invalid")
    title = _clean_title(title)
    body = _clean_body(body)
    if not platform_text:
        safety.check_new_member_limits(member=acting_member, tenant=tenant, text=body, opening_topic=True)
    wanted = set(tag_ids)
    tags = list(Tag.objects.filter(pk__in=wanted, community_id=community.pk, status=TagStatus.CURATED))
    if len(tags) != len(wanted):
        raise InvalidInput(
            "Choose tags from this community's list.", code="tag_invalid", details={"tag_ids": ["Unknown tag."]}
        )
    for proposed in proposed_tag_names:
        _clean_tag(TagKind.TOPIC, proposed, field="proposed_tags")  # validate all before writing anything
    # ``platform_text``: the body was written by the platform (a trial discussion's opening, with the
    # registry's link), so the member's link rules don't apply to it; watched words still do.
    screening = watched.screen_post(
        member=acting_member, tenant=tenant, title=title, body=body, check_links=not platform_text
    )
    title, body = screening.title, screening.body
    risk = crisis.assess(text=f"{title}\n{body}")
    body_html = render_markdown(body)
    with transaction.atomic():
        _lock_poster(acting_member, tenant)
        _check_posting_rate(acting_member, tenant)
        held = screening.hold or needs_premoderation(member=acting_member, tenant=tenant, community=community)
        status = ContentStatus.HELD if held else ContentStatus.PUBLISHED
        topic = Topic.objects.create(community=community, kind=kind, title=title, author=acting_member, status=status)
        post = Post.objects.create(
            topic=topic,
            community=community,
            topic_kind=kind,
            author=acting_member,
            is_opening=True,
            body_markdown=body,
            body_html=body_html,
            status=status,
        )
        tags += [
            _propose(member=acting_member, community=community, kind=TagKind.TOPIC, name=name)
            for name in proposed_tag_names
        ]
        if tags:
            topic.tags.set(tags)
        refresh_search_vectors(topic_ids=[topic.pk])
        TopicSubscription.objects.create(topic=topic, member=acting_member, level=WatchLevel.WATCHING)
        post.topic = topic
        _queue_for_review(tenant=tenant, post=post, community=community, held=held, screening=screening, risk=risk)
        if not held:
            # A held post: nobody hears of it until a moderator approves it (then notify_new_post runs).
            notifications.notify_new_post(tenant=tenant, post=post)
    safety.evaluate_trust(member=acting_member, tenant=tenant)
    return topic


def _quote_markdown(quoted: Post, *, tenant: Tenant) -> str:
    author = tenant_name_of(member=quoted.author, tenant=tenant) if quoted.author else wording.FORMER_MEMBER
    return wording.quote_markdown(author_name=author, body_markdown=quoted.body_markdown)


def create_reply(
    *, acting_member: Member, tenant: Tenant, topic: Topic, body: str, quoted_post: Post | None = None
) -> Post:
    """Reply in a topic (optionally quoting a post of the same topic, rendered as a blockquote).

    Bumps the topic's activity time and reply count in the same transaction; the replier tracks the
    topic from now on unless they chose a level before.
    """
    community = topic.community
    _require_participant(acting_member, community)
    safety.require_may_post(member=acting_member, tenant=tenant)
    if topic.deleted_at is not None:
        raise InvalidInput("This topic was removed.", code="topic_removed")
    if topic.locked_at is not None and not can_moderate(member=acting_member, tenant=tenant):
        raise NotAllowed("A moderator locked this topic: no new replies.", code="topic_locked")
    body = _clean_body(body)
    if quoted_post is not None and (quoted_post.topic_id != topic.pk or quoted_post.deleted_at is not None):
        raise InvalidInput(wording.QUOTE_ELSEWHERE, code="quote_invalid")
    safety.check_new_member_limits(member=acting_member, tenant=tenant, text=body, opening_topic=False)
    screening = watched.screen_post(member=acting_member, tenant=tenant, body=body)
    body = screening.body
    risk = crisis.assess(text=body)
    # The quote is rendered from the quoted text now: later edits of that post don't rewrite this one.
    source = f"{_quote_markdown(quoted_post, tenant=tenant)}\n\n{body}" if quoted_post else body
    body_html = render_markdown(source)
    now = timezone.now()
    with transaction.atomic():
        _lock_poster(acting_member, tenant)
        _check_posting_rate(acting_member, tenant)
        safety.check_slow_mode(member=acting_member, tenant=tenant, topic=topic)
        held = screening.hold or needs_premoderation(member=acting_member, tenant=tenant, community=community)
        post = Post.objects.create(
            topic=topic,
            community_id=topic.community_id,
            # Read inside the transaction: mark_answer updates the topic and then all its posts.
            topic_kind=topic.kind,
            topic_answered=Topic.objects.filter(pk=topic.pk, answer__isnull=False).exists(),
            author=acting_member,
            quoted_post=quoted_post,
            body_markdown=body,
            body_html=body_html,
            status=ContentStatus.HELD if held else ContentStatus.PUBLISHED,
        )
        if not held:
            # A held reply moves nothing others can see: counters and activity follow its approval.
            Topic.objects.filter(pk=topic.pk).update(last_activity_at=now, reply_count=F("reply_count") + 1)
        TopicSubscription.objects.get_or_create(
            topic=topic, member=acting_member, defaults={"level": WatchLevel.TRACKING}
        )
        topic.refresh_from_db(fields=["last_activity_at", "reply_count"])
        index_posts(post_ids=[post.pk])
        _queue_for_review(tenant=tenant, post=post, community=community, held=held, screening=screening, risk=risk)
        if not held:
            notifications.notify_new_post(tenant=tenant, post=post)
    safety.evaluate_trust(member=acting_member, tenant=tenant)
    return post


def edit_post(*, acting_member: Member, tenant: Tenant, post: Post, body: str, title: str | None = None) -> Post:
    """Authors edit their own posts within the edit window; the previous text is kept as a revision.
    ``title`` renames the topic when the post is its opening post.

    Moderators don't edit other people's words: they remove and restore.
    """
    _require_signed_in(acting_member)
    if not is_author(member=acting_member, author_id=post.author_id):
        raise NotAllowed("You can only edit your own posts.", code="not_author")
    safety.require_may_post(member=acting_member, tenant=tenant)
    if post.deleted_at is not None:
        raise InvalidInput(wording.POST_REMOVED, code="post_removed")
    if not within_edit_window(post=post, now=timezone.now()):
        raise NotAllowed("The time to edit this post has passed.", code="edit_window_closed")
    body = _clean_body(body)
    new_title = _clean_title(title) if title is not None and post.is_opening else None
    # An edit passes the same rules (BLOCK refuses it, words are censored or replaced). A HOLD word or
    # recruiting language takes a published post back into the queue: unpublished for everyone but its
    # author and the moderators until approved again. A FLAG word queues it and leaves it published.
    # The title is screened with an opening post's body even when it doesn't change (recruiting reads both).
    title_text = new_title if new_title is not None else (post.topic.title if post.is_opening else "")
    screening = watched.screen_post(member=acting_member, tenant=tenant, body=body, title=title_text)
    safety.check_new_member_limits(member=acting_member, tenant=tenant, text=body, opening_topic=False)
    body = screening.body
    new_title = screening.title if new_title is not None else None
    quoted = post.quoted_post
    source = f"{_quote_markdown(quoted, tenant=tenant)}\n\n{body}" if quoted else body
    with transaction.atomic():
        if new_title is not None and new_title != post.topic.title:
            Topic.objects.filter(pk=post.topic_id).update(title=new_title)
            post.topic.title = new_title
        if body != post.body_markdown:
            PostRevision.objects.create(
                post=post, body_markdown=post.body_markdown, body_html=post.body_html, edited_by=acting_member
            )
            post.body_markdown = body
            post.body_html = render_markdown(source)
            post.edited_at = timezone.now()
            post.edit_count = F("edit_count") + 1
            post.save(update_fields=["body_markdown", "body_html", "edited_at", "edit_count"])
            post.refresh_from_db(fields=["edit_count"])
        if post.is_opening:
            refresh_search_vectors(topic_ids=[post.topic_id])
        else:
            index_posts(post_ids=[post.pk])
        if screening.hold or screening.flag:
            reasons = ([watched.WATCHED_WORD_REASON] if screening.word_hold or screening.flag else []) + (
                [recruiting.RECRUITING_REASON] if screening.recruiting else []
            )
            item = ReviewItem.objects.select_for_update().filter(post_id=post.pk, status=ReviewStatus.OPEN).first()
            if item is None:
                item = ReviewItem.objects.create(post=post, community_id=post.topic.community_id, reasons=reasons)
            else:
                item.reasons = [*item.reasons, *(r for r in reasons if r not in item.reasons)]
                item.save(update_fields=["reasons"])
            if screening.hold and post.status == ContentStatus.PUBLISHED:
                set_post_status(post, ContentStatus.HELD)
                ReviewItem.objects.filter(pk=item.pk).update(held=True)
    return post


def set_post_status(post: Post, status: str, *, hidden_reason: str = "") -> None:
    """Change who sees a post, keeping the topic's copy, its reply count and search in step."""
    was_published = post.status == ContentStatus.PUBLISHED
    now_published = status == ContentStatus.PUBLISHED
    Post.objects.filter(pk=post.pk).update(status=status, hidden_reason=hidden_reason)
    post.status, post.hidden_reason = status, hidden_reason
    if post.is_opening:
        Topic.objects.filter(pk=post.topic_id).update(status=status)
        post.topic.status = status
        refresh_search_vectors(topic_ids=[post.topic_id])
    elif post.deleted_at is None and was_published != now_published:
        change = 1 if now_published else -1
        Topic.objects.filter(pk=post.topic_id, reply_count__gte=max(0, -change)).update(
            reply_count=F("reply_count") + change
        )
        if now_published:
            index_posts(post_ids=[post.pk])  # its words join "did you mean" once anyone may read them


def delete_post(*, acting_member: Member, tenant: Tenant, post: Post, reason: str = "") -> Post:
    """Soft delete by the author or a moderator. An opening post's removal leaves the thread readable."""
    _require_signed_in(acting_member)
    is_moderator = can_moderate(member=acting_member, tenant=tenant)
    if not may_take_down_post(member=acting_member, post=post, is_moderator=is_moderator):
        raise NotAllowed("You can only delete your own posts.", code="not_author")
    if post.deleted_at is not None:
        return post
    with transaction.atomic():
        updated = Post.objects.filter(pk=post.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), deleted_by=acting_member
        )
        if updated and not post.is_opening and post.status == ContentStatus.PUBLISHED:
            # reply_count counts visible replies, so "unanswered" and the feed stay truthful.
            Topic.objects.filter(pk=post.topic_id, reply_count__gt=0).update(reply_count=F("reply_count") - 1)
        if updated and post.is_opening:
            refresh_search_vectors(topic_ids=[post.topic_id])
        if updated:
            index_posts(post_ids=[post.pk])
        post.refresh_from_db(fields=["deleted_at", "deleted_by"])
        if updated and post.author_id != acting_member.pk:
            # An author deleting their own post is not a moderation decision; a moderator's removal is.
            _record_moderation(
                kind=ModerationActionKind.POST_REMOVED,
                actor=acting_member,
                subject_id=post.author_id,
                community=_community_of(post),
                topic_id=post.topic_id,
                post_id=post.pk,
                summary=f"Removed post #{post.pk}",
                reason=reason,
            )
        if updated:
            notifications.notify_moderation(post=post, action="removed", actor=acting_member, reason=reason)
    return post


def restore_post(*, acting_member: Member, tenant: Tenant, post: Post, reason: str = "") -> Post:
    """Moderators bring back a removed post."""
    _require_moderator(acting_member, tenant)
    with transaction.atomic():
        updated = Post.objects.filter(pk=post.pk, deleted_at__isnull=False).update(deleted_at=None, deleted_by=None)
        if updated and not post.is_opening and post.status == ContentStatus.PUBLISHED:
            Topic.objects.filter(pk=post.topic_id).update(reply_count=F("reply_count") + 1)
        if updated and post.is_opening:
            refresh_search_vectors(topic_ids=[post.topic_id])
        if updated:
            index_posts(post_ids=[post.pk])
        post.refresh_from_db(fields=["deleted_at", "deleted_by"])
        if updated:
            _record_moderation(
                kind=ModerationActionKind.POST_RESTORED,
                actor=acting_member,
                subject_id=post.author_id,
                community=_community_of(post),
                topic_id=post.topic_id,
                post_id=post.pk,
                summary=f"Restored post #{post.pk}",
                reason=reason,
            )
            # The removal notice was already sent for this post; a restore notice has its own text but
            # shares the (recipient, post, kind) slot, so replace the removal notice.
            Notification.objects.filter(post_id=post.pk, kind=NotificationKind.MODERATION).delete()
            notifications.notify_moderation(post=post, action="restored", actor=acting_member, reason=reason)
    return post


# ---------------------------------------------------------------------------------------------
# Reactions, answers, watching
# ---------------------------------------------------------------------------------------------


def _community_of(post: Post) -> Community:
    return Community.objects.get(topics__pk=post.topic_id)


def _reaction_field(kind: str) -> str:
    try:
        return REACTION_COUNTERS[ReactionKind(kind)]
    except ValueError as error:
        raise InvalidInput(f"Reactions are: {', '.join(ReactionKind.values)}.", code="reaction_invalid") from error


def react(*, member: Member, tenant: Tenant, post: Post, kind: str) -> bool:
    """Add one reaction of ``kind``; True if it is new. Idempotent and safe under concurrency: the
    unique constraint decides who inserted, and counters move with F() only for that one."""
    counter = _reaction_field(kind)
    topic = post.topic
    _require_participant(member, topic.community)
    safety.require_may_post(member=member, tenant=tenant)
    if post.deleted_at is not None:
        raise InvalidInput(wording.POST_REMOVED, code="post_removed")
    try:
        with transaction.atomic():
            Reaction.objects.create(post=post, member=member, kind=kind)
            Post.objects.filter(pk=post.pk).update(**{counter: F(counter) + 1})
            Topic.objects.filter(pk=topic.pk).update(reaction_count=F("reaction_count") + 1)
    except IntegrityError:
        return False
    if kind == ReactionKind.HELPFUL and post.author is not None and post.author_id != member.pk:
        # Helpful reactions from others move the author up the trust ladder.
        safety.evaluate_trust(member=post.author, tenant=tenant)
    return True


def unreact(*, member: Member, tenant: Tenant, post: Post, kind: str) -> bool:
    """Take a reaction back; True if there was one. Idempotent."""
    counter = _reaction_field(kind)
    _require_signed_in(member)
    with transaction.atomic():
        deleted, _ = Reaction.objects.filter(post_id=post.pk, member_id=member.pk, kind=kind).delete()
        if deleted:
            Post.objects.filter(pk=post.pk, **{f"{counter}__gt": 0}).update(**{counter: F(counter) - 1})
            Topic.objects.filter(pk=post.topic_id, reaction_count__gt=0).update(reaction_count=F("reaction_count") - 1)
    return bool(deleted)


def mark_answer(*, acting_member: Member, tenant: Tenant, topic: Topic, post: Post) -> Topic:
    """The question's author marks a reply as the answer (marking another one replaces it)."""
    _require_signed_in(acting_member)
    if not is_author(member=acting_member, author_id=topic.author_id):
        raise NotAllowed("Only the person who asked can mark the answer.", code="not_author")
    if topic.kind != TopicKind.QUESTION:
        raise InvalidInput("Only questions have answers.", code="not_question")
    if post.topic_id != topic.pk or post.is_opening or post.deleted_at is not None:
        raise InvalidInput(wording.ANSWER_ELSEWHERE, code="answer_invalid")
    if topic.answer_id == post.pk:
        return topic
    with transaction.atomic():
        Topic.objects.filter(pk=topic.pk).update(answer=post)
        # Search's answered filter reads the posts' own copy.
        Post.objects.filter(topic_id=topic.pk, topic_answered=False).update(topic_answered=True)
        topic.answer = post
        notifications.notify_answer(topic=topic, post=post, actor=acting_member)
    return topic


def _set_level(level: str) -> str:
    if level not in WatchLevel.values:
        raise InvalidInput(f"Level is one of: {', '.join(WatchLevel.values)}.", code="level_invalid")
    return level


def set_topic_watch_level(*, member: Member, tenant: Tenant, topic: Topic, level: str) -> TopicSubscription:
    """Follow (watching/tracking), reset (normal) or mute a topic. Idempotent."""
    _require_signed_in(member)
    level = _set_level(level)
    _require_reader(member, tenant, topic.community)
    with transaction.atomic():
        subscription, _ = TopicSubscription.objects.update_or_create(
            topic=topic, member=member, defaults={"level": level}
        )
    return subscription


def set_community_watch_level(
    *, member: Member, tenant: Tenant, community: Community, level: str
) -> CommunitySubscription:
    """Follow (watching/tracking), reset (normal) or mute a whole community. Idempotent."""
    _require_signed_in(member)
    level = _set_level(level)
    _require_reader(member, tenant, community)
    with transaction.atomic():
        subscription, _ = CommunitySubscription.objects.update_or_create(
            community=community, member=member, defaults={"level": level}
        )
    return subscription


# ---------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------


def open_notification(*, member: Member, notification_id: int) -> Notification:
    """The member opens one of their notifications: it is read from now on. Someone else's (or a
    missing) notification is refused alike."""
    _require_signed_in(member)
    notification = Notification.objects.filter(pk=notification_id, recipient_id=member.pk).first()
    if notification is None:
        raise CommunityNotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def mark_notifications_read(*, member: Member, notification_ids: Iterable[int] | None = None) -> int:
    """Mark some (or all) of the member's notifications read; returns how many changed."""
    _require_signed_in(member)
    unread = Notification.objects.filter(recipient_id=member.pk, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


# ---------------------------------------------------------------------------------------------
# Clinical-trial discussions
# ---------------------------------------------------------------------------------------------


def open_trial_discussion(
    *, acting_member: Member, community: Community, nct_id: str, tenant: Tenant | None = None
) -> tuple[Topic, bool]:
    """Find this community's topic about a trial, or start it (via ``create_topic``): (topic, created).

    Finding needs read access to the community; starting one needs the right to post in it. Two members
    opening the same trial at once get the same topic (a unique constraint decides, the loser reads)."""
    tenant = tenant or current_tenant()
    assert tenant is not None
    _require_reader(acting_member, tenant, community)
    trial = get_trial(nct_id=nct_id)
    if trial is None:
        raise NotFound("No such trial.", details={"nct_id": ["Unknown trial."]})
    live = Topic.objects.filter(community=community, trial_nct_id=trial.nct_id, deleted_at__isnull=True)
    existing = live.first()
    if existing is not None:
        return existing, False
    title = f"{trial.nct_id}: {trial.brief_title}"
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    body = (
        f"A place to talk about the clinical trial [{trial.nct_id}]({trial.ctgov_url}): {trial.brief_title}\n\n"
        "Are you taking part, or thinking about it? Compare notes here. "
        f"[The trial's page](/trials/{trial.nct_id}/) lists its sites and eligibility."
    )
    try:
        with transaction.atomic():
            topic = create_topic(
                acting_member=acting_member,
                tenant=tenant,
                community=community,
                kind=TopicKind.UPDATE,
                title=title,
                body=body,
                platform_text=True,
            )
            Topic.objects.filter(pk=topic.pk).update(trial_nct_id=trial.nct_id)
            topic.trial_nct_id = trial.nct_id
    except IntegrityError:
        return live.get(), False
    return topic, True


# ---------------------------------------------------------------------------------------------
# Search synonyms (the partner's own list; the condition taxonomy's synonyms come for free)
# ---------------------------------------------------------------------------------------------

SYNONYM_TERM_MAX = 80
SYNONYM_TERMS_MAX = 10


def _require_admin(member: Member, tenant: Tenant) -> None:
    _require_signed_in(member)
    if not can_administer_tenant(member=member, tenant=tenant):
        raise NotAllowed("Only this site's administrators can do that.", code="not_admin")


def _clean_synonym_terms(terms: Iterable[str]) -> list[str]:
    cleaned: dict[str, str] = {}
    for term in terms:
        text = " ".join(str(term).replace("\x00", " ").split())
        if not text:
            continue
        if len(text) > SYNONYM_TERM_MAX:
            raise InvalidInput(
                f"Each word or phrase has at most {SYNONYM_TERM_MAX} characters.",
                code="synonym_too_long",
                details={"terms": [f"“{text[:20]}…” is too long."]},
            )
        if any(char in text for char in ',"'):
            raise InvalidInput(
                "Words and phrases cannot contain commas or quotes.",
                code="synonym_invalid",
                details={"terms": ["Remove commas and quotes."]},
            )
        cleaned.setdefault(text.lower(), text)
    if len(cleaned) < 2:
        raise InvalidInput(
            "Give at least two different words or phrases that mean the same.",
            code="synonym_too_few",
            details={"terms": ["At least two."]},
        )
    if len(cleaned) > SYNONYM_TERMS_MAX:
        raise InvalidInput(
            f"A group has at most {SYNONYM_TERMS_MAX} words or phrases.",
            code="synonym_too_many",
            details={"terms": [f"At most {SYNONYM_TERMS_MAX}."]},
        )
    return list(cleaned.values())


def create_search_synonym(*, acting_member: Member, tenant: Tenant, terms: Iterable[str]) -> SearchSynonym:
    """Tenant admins add a group of words that search treats as the same ("MTX", "methotrexate")."""
    _require_admin(acting_member, tenant)
    return SearchSynonym.objects.create(terms=_clean_synonym_terms(terms))


def update_search_synonym(
    *, acting_member: Member, tenant: Tenant, synonym: SearchSynonym, terms: Iterable[str]
) -> SearchSynonym:
    _require_admin(acting_member, tenant)
    synonym.terms = _clean_synonym_terms(terms)
    synonym.save(update_fields=["terms", "updated_at"])
    return synonym


def delete_search_synonym(*, acting_member: Member, tenant: Tenant, synonym: SearchSynonym) -> None:
    _require_admin(acting_member, tenant)
    synonym.delete()


# ---------------------------------------------------------------------------------------------
# Answers from outside the forum (an expert Q&A session of the partner's pages)
# ---------------------------------------------------------------------------------------------


def post_highlighted_answer(
    *,
    acting_member: Member,
    tenant: Tenant,
    community: Community,
    question_title: str,
    question_body: str,
    answer_body: str,
    topic: Topic | None = None,
) -> Topic:
    """A moderator posts a question asked elsewhere (an expert session) with its answer: a question topic
    whose reply is marked as the answer, so the community shows it highlighted like any accepted answer.

    Called again with the topic it returned, it adds the new answer as a reply and marks that one. The
    texts are the platform's and the expert's (screened by no member's link rules); moderators never wait
    for pre-moderation, so both posts are published at once and followers are notified.
    """
    _require_moderator(acting_member, tenant)
    answer_body = _clean_body(answer_body)
    answer_html = render_markdown(answer_body)
    with transaction.atomic():
        if topic is None or topic.deleted_at is not None:
            title = _clean_title(question_title[:TITLE_MAX])
            question_body = _clean_body(question_body)
            topic = Topic.objects.create(
                community=community, kind=TopicKind.QUESTION, title=title, author=acting_member
            )
            opening = Post.objects.create(
                topic=topic,
                community=community,
                author=acting_member,
                is_opening=True,
                body_markdown=question_body,
                body_html=render_markdown(question_body),
            )
            refresh_search_vectors(topic_ids=[topic.pk])
            TopicSubscription.objects.get_or_create(
                topic=topic, member=acting_member, defaults={"level": WatchLevel.WATCHING}
            )
            opening.topic = topic
            notifications.notify_new_post(tenant=tenant, post=opening)
        reply = Post.objects.create(
            topic=topic,
            community_id=topic.community_id,
            author=acting_member,
            body_markdown=answer_body,
            body_html=answer_html,
        )
        Topic.objects.filter(pk=topic.pk).update(
            last_activity_at=timezone.now(), reply_count=F("reply_count") + 1, answer=reply
        )
        topic.refresh_from_db(fields=["last_activity_at", "reply_count", "answer"])
        index_posts(post_ids=[reply.pk])
        reply.topic = topic
        notifications.notify_new_post(tenant=tenant, post=reply)
    return topic
