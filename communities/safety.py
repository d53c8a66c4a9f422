"""Who may take part, and how much: silences, suspensions, slow mode and the trust ladder.

Restrictions (moderators set them per tenant; platform staff suspend platform-wide, members app):

| state | read | post, reply, edit, react, propose tags | flag | join a community | own data, export |
| --- | --- | --- | --- | --- | --- |
| silenced (tenant, until a date) | yes | no | yes | yes | yes |
| suspended (tenant, until a date or lifted) | yes | no | no | no | yes |
| suspended platform-wide (staff) | yes, on every partner | no | no | no | yes |

A restricted member's existing posts stay as they are (visible, unless a moderator hides them):
the restriction is about what they do next, not a judgement of every word they wrote. It ends on
its own at ``ends_at`` (nothing to run), or when a moderator lifts it.

Trust ladder (per tenant): new → member → trusted → leader, earned by days since joining the
tenant, posts read, posts written (published) and "helpful" reactions received from others, with
thresholds in ``DEFAULT_REQUIREMENTS`` (a tenant overrides them in ModerationSettings). Every
``demote_after_upheld_flags`` upheld flags against a member's posts in the last 180 days cost one
level. ``evaluate_trust`` applies the rules; it runs from the services on the actions that move the
numbers (posting, a helpful reaction, reading a topic, a moderator's decision) and once a day for
every member (Celery beat). A moderator may set a level by hand: it is then locked until they
unlock it.

Privileges: new members are limited per post in links, images and @mentions and in topics per
day; trusted members skip pre-moderation and their flags weigh ``trusted_flag_weight``; a
leader's flag (like a moderator's) weighs the whole threshold, so leaders hide a post at once,
pending a moderator's review.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import re2
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from communities.models import (
    ContentStatus,
    Flag,
    MemberRestriction,
    MemberTrust,
    ModerationAction,
    ModerationActionKind,
    ModerationSettings,
    Post,
    Reaction,
    ReactionKind,
    RestrictionKind,
    Topic,
    TrustLevel,
    TrustLevelName,
)
from communities.permissions import can_moderate
from communities.selectors import moderation_settings
from core.errors import DomainError, InvalidInput, NotAllowed
from members.models import Member, TenantMembership
from members.selectors import platform_suspension_of
from tenants.models import Tenant

DEFAULT_REQUIREMENTS: dict[str, dict[str, int]] = {
    "member": {"days": 1, "posts_read": 10, "posts": 1, "helpful": 0},
    "trusted": {"days": 14, "posts_read": 100, "posts": 10, "helpful": 5},
    "leader": {"days": 60, "posts_read": 500, "posts": 50, "helpful": 25},
}
REQUIREMENT_KEYS = ("days", "posts_read", "posts", "helpful")
TRUST_LEVEL_NAMES = TrustLevelName.choices  # the API's names of the levels
LEVEL_NAMES = {
    "new": TrustLevel.NEW,
    "member": TrustLevel.MEMBER,
    "trusted": TrustLevel.TRUSTED,
    "leader": TrustLevel.LEADER,
}
# Review decisions that agree with the flags (the post was wrong), so its flags were upheld.
UPHELD_DECISIONS = ("hide", "misinformation", "edit")
UPHELD_WINDOW = datetime.timedelta(days=180)
_IMAGE_RE = re2.compile(r"!\[[^\]]*\]\(|<img\b")
_MENTION_RE = re2.compile(r"(?:^|[^\w@])@\w")
_LINK_RE = re2.compile(r"(?i)\b(?:https?://|www\.)[a-z0-9]")


class SlowModeActive(DomainError):
    code = "slow_mode"
    http_status = 429


class NewMemberTopicLimit(DomainError):
    code = "new_member_topic_limit"
    http_status = 429


# ---------------------------------------------------------------------------------------------
# Restrictions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restriction:
    kind: str
    reason: str
    ends_at: datetime.datetime | None
    platform_wide: bool = False


def describe_until(ends_at: datetime.datetime | None) -> str:
    return f"until {ends_at:%d %B %Y, %H:%M} UTC" if ends_at else "until a moderator lifts it"


def active_restrictions() -> Q:
    now = timezone.now()
    return Q(lifted_at__isnull=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def current_restrictions(*, limit: int) -> list[MemberRestriction]:
    """Silenced and suspended members now, newest first."""
    return list(
        MemberRestriction.objects.filter(active_restrictions()).select_related("member").order_by("-id")[:limit]
    )


def active_restriction(*, member: Member, tenant: Tenant) -> Restriction | None:
    """The strongest restriction on this member here now: platform suspension, then this tenant's
    suspension, then a silence. Moderators of the tenant are never restricted here."""
    if not member.is_authenticated:
        return None
    platform = platform_suspension_of(member=member)
    if platform is not None:
        return Restriction(RestrictionKind.SUSPENDED, platform.reason, platform.ends_at, platform_wide=True)
    rows = list(MemberRestriction.objects.filter(active_restrictions(), member_id=member.pk))
    for kind in (RestrictionKind.SUSPENDED, RestrictionKind.SILENCED):
        found = [row for row in rows if row.kind == kind]
        if found:
            # The one that lasts longest (an open-ended one lasts longest of all).
            row = max(found, key=lambda r: (r.ends_at is None, r.ends_at or r.starts_at))
            return Restriction(kind, row.reason, row.ends_at)
    return None


def _refusal(restriction: Restriction) -> NotAllowed:
    until = describe_until(restriction.ends_at)
    if restriction.kind == RestrictionKind.SILENCED:
        message = (
            f"A moderator silenced you here {until}. Reason: {restriction.reason}. "
            "You can still read, report posts, and download your data."
        )
        return NotAllowed(message, code="member_silenced", details=_details(restriction))
    where = "on every community of this platform" if restriction.platform_wide else "here"
    if restriction.platform_wide and restriction.ends_at is None:
        until = "until platform staff lift it"
    message = (
        f"Your account is suspended {where} {until}. Reason: {restriction.reason}. "
        "You can still sign in to read your own posts and download your data."
    )
    return NotAllowed(message, code="member_suspended", details=_details(restriction))


def refusal_message(restriction: Restriction) -> str:
    return _refusal(restriction).message


def _details(restriction: Restriction) -> dict[str, Any]:
    return {
        "restriction": restriction.kind,
        "ends_at": restriction.ends_at.isoformat() if restriction.ends_at else None,
        "platform_wide": restriction.platform_wide,
    }


def require_may_post(*, member: Member, tenant: Tenant) -> None:
    """Posting, replying, editing, reacting and proposing tags: refused while silenced or suspended."""
    if can_moderate(member=member, tenant=tenant):
        return
    restriction = active_restriction(member=member, tenant=tenant)
    if restriction is not None:
        raise _refusal(restriction)


def require_not_suspended(*, member: Member, tenant: Tenant) -> None:
    """Flagging and joining: refused while suspended (a silenced member may still report a post)."""
    if can_moderate(member=member, tenant=tenant):
        return
    restriction = active_restriction(member=member, tenant=tenant)
    if restriction is not None and restriction.kind == RestrictionKind.SUSPENDED:
        raise _refusal(restriction)


# ---------------------------------------------------------------------------------------------
# Slow mode
# ---------------------------------------------------------------------------------------------


def check_slow_mode(*, member: Member, tenant: Tenant, topic: Topic) -> None:
    """One post per member per ``topic.slow_mode_minutes`` in this topic (moderators exempt).
    Call inside the posting transaction, after the poster's lock."""
    minutes = topic.slow_mode_minutes
    if not minutes or can_moderate(member=member, tenant=tenant):
        return
    window = datetime.timedelta(minutes=minutes)
    last = (
        Post.objects.filter(topic_id=topic.pk, author_id=member.pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None or timezone.now() - last >= window:
        return
    available_at = last + window
    wait = max(1, int((available_at - timezone.now()).total_seconds() + 0.999))
    mins, secs = divmod(wait, 60)
    when = f"{mins} min {secs} s" if mins else f"{secs} s"
    raise SlowModeActive(
        f"Slow mode is on in this topic: one post every {minutes} minute{'s' if minutes != 1 else ''}. "
        f"You can post here again in {when}.",
        details={"retry_after_seconds": wait, "available_at": available_at.isoformat()},
    )


# ---------------------------------------------------------------------------------------------
# Trust ladder
# ---------------------------------------------------------------------------------------------


def requirements(settings_row: ModerationSettings | None = None) -> dict[str, dict[str, int]]:
    row = settings_row or moderation_settings()
    merged = {level: dict(values) for level, values in DEFAULT_REQUIREMENTS.items()}
    for level, values in (row.trust_requirements or {}).items():
        if level in merged and isinstance(values, dict):
            merged[level].update({k: int(v) for k, v in values.items() if k in REQUIREMENT_KEYS})
    return merged


def clean_requirements(raw: Any) -> dict[str, dict[str, int]]:
    """Validate moderators' thresholds: every level and key, whole numbers 0–100,000, non-decreasing."""
    if not isinstance(raw, dict) or set(raw) - set(DEFAULT_REQUIREMENTS):
        raise InvalidInput(
            "Trust requirements are given per level: member, trusted, leader.", code="trust_requirements_invalid"
        )
    merged = {level: dict(values) for level, values in DEFAULT_REQUIREMENTS.items()}
    for level, values in raw.items():
        if not isinstance(values, dict) or set(values) - set(REQUIREMENT_KEYS):
            raise InvalidInput(f"Each level has: {', '.join(REQUIREMENT_KEYS)}.", code="trust_requirements_invalid")
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
                raise InvalidInput(
                    f"{level} {key}: a whole number from 0 to 100,000.", code="trust_requirements_invalid"
                )
            merged[level][key] = value
    for lower, higher in (("member", "trusted"), ("trusted", "leader")):
        if any(merged[lower][key] > merged[higher][key] for key in REQUIREMENT_KEYS):
            raise InvalidInput(f"A {higher} needs at least what a {lower} needs.", code="trust_requirements_invalid")
    return merged


def trust_level(*, member: Member) -> int:
    """This member's level in the current tenant (no row: new)."""
    if not member.is_authenticated:
        return TrustLevel.NEW
    level = MemberTrust.objects.filter(member_id=member.pk).values_list("level", flat=True).first()
    return TrustLevel.NEW if level is None else int(level)


@dataclass(frozen=True)
class Activity:
    days: int
    posts_read: int
    posts: int
    helpful: int
    upheld_flags: int


def activity_of(*, member: Member, tenant: Tenant) -> Activity:
    joined = (
        TenantMembership.objects.filter(member_id=member.pk, tenant_id=tenant.pk)
        .values_list("joined_at", flat=True)
        .first()
    )
    now = timezone.now()
    days = (now - joined).days if joined else 0
    read = MemberTrust.objects.filter(member_id=member.pk).values_list("posts_read", flat=True).first() or 0
    posts = Post.objects.filter(author_id=member.pk, status=ContentStatus.PUBLISHED, deleted_at__isnull=True).count()
    helpful = (
        Reaction.objects.filter(post__author_id=member.pk, kind=ReactionKind.HELPFUL)
        .exclude(member_id=member.pk)
        .count()
    )
    upheld = (
        Flag.objects.filter(
            post__author_id=member.pk,
            resolved_at__gte=now - UPHELD_WINDOW,
            post__review_items__decision__in=UPHELD_DECISIONS,
        )
        .values("pk")
        .distinct()
        .count()
    )
    return Activity(days=days, posts_read=read, posts=posts, helpful=helpful, upheld_flags=upheld)


def earned_level(*, activity: Activity, settings_row: ModerationSettings) -> int:
    reqs = requirements(settings_row)
    level = int(TrustLevel.NEW)
    for name, value in (("member", TrustLevel.MEMBER), ("trusted", TrustLevel.TRUSTED), ("leader", TrustLevel.LEADER)):
        need = reqs[name]
        if all(getattr(activity, key) >= need[key] for key in REQUIREMENT_KEYS):
            level = int(value)
        else:
            break
    every = settings_row.demote_after_upheld_flags
    if every:
        level = max(int(TrustLevel.NEW), level - activity.upheld_flags // every)
    return level


def evaluate_trust(*, member: Member, tenant: Tenant) -> int:
    """Apply the ladder's rules to one member here (a locked level stays); returns the level.
    A change is written to the moderation log with no actor (the rules decided)."""
    if not member.is_authenticated:
        return TrustLevel.NEW
    settings_row = moderation_settings()
    activity = activity_of(member=member, tenant=tenant)
    with transaction.atomic():
        row, _ = MemberTrust.objects.select_for_update().get_or_create(member_id=member.pk)
        if row.locked:
            return int(row.level)
        level = earned_level(activity=activity, settings_row=settings_row)
        old = int(row.level)
        row.level = level
        row.evaluated_at = timezone.now()
        row.save(update_fields=["level", "evaluated_at", "updated_at"])
        if level != old:
            ModerationAction.objects.create(
                kind=ModerationActionKind.TRUST_AUTOMATIC,
                actor=None,
                subject_id=member.pk,
                summary=f"Trust level {TrustLevel(old).label} → {TrustLevel(level).label} (by the rules)",
                reason=(
                    f"{activity.days} days, {activity.posts_read} posts read, {activity.posts} posts, "
                    f"{activity.helpful} helpful, {activity.upheld_flags} upheld flags"
                ),
            )
    return level


def evaluate_all_trust(*, tenant: Tenant) -> int:
    """Beat: every member of this tenant (their levels drift with time alone). Returns how many."""
    count = 0
    for member in Member.objects.filter(memberships__tenant_id=tenant.pk, is_active=True).order_by("pk").iterator():
        evaluate_trust(member=member, tenant=tenant)
        count += 1
    return count


_RECORD_READING_SQL = """
WITH old AS (
    SELECT posts_seen FROM communities_topicread WHERE topic_id = %(topic)s AND member_id = %(member)s
), upsert AS (
    INSERT INTO communities_topicread (topic_id, member_id, posts_seen, updated_at)
    VALUES (%(topic)s, %(member)s, %(seen)s, now())
    ON CONFLICT (topic_id, member_id) DO UPDATE
        SET posts_seen = GREATEST(communities_topicread.posts_seen, EXCLUDED.posts_seen), updated_at = now()
)
INSERT INTO communities_membertrust (member_id, level, locked, posts_read, updated_at)
SELECT %(member)s, 0, false, GREATEST(0, %(seen)s - COALESCE((SELECT posts_seen FROM old), 0)), now()
ON CONFLICT (member_id) DO UPDATE SET posts_read = communities_membertrust.posts_read + EXCLUDED.posts_read
"""


def record_reading(*, member: Member, topic: Topic, posts_seen: int) -> None:
    """A member saw ``posts_seen`` posts of a topic: their posts-read count grows by what is new to
    them. One statement whatever the history (topic pages call it on every view); the ladder picks
    the new count up at the next evaluation (their next post, or the daily run)."""
    if not member.is_authenticated or posts_seen <= 0:
        return
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_READING_SQL, {"topic": topic.pk, "member": member.pk, "seen": int(posts_seen)})


def check_new_member_limits(*, member: Member, tenant: Tenant, text: str, opening_topic: bool) -> None:
    """New members: at most N links, images and @mentions per post and M topics a day.
    ``KINDRED_NEW_MEMBER_LIMITS`` (on unless set to 0) switches them off platform-wide."""
    if not getattr(settings, "KINDRED_NEW_MEMBER_LIMITS", True):
        return
    if can_moderate(member=member, tenant=tenant) or trust_level(member=member) > TrustLevel.NEW:
        return
    row = moderation_settings()
    for label, pattern, limit in (
        ("links", _LINK_RE, row.new_max_links),
        ("images", _IMAGE_RE, row.new_max_images),
        ("mentions", _MENTION_RE, row.new_max_mentions),
    ):
        found = sum(1 for _ in pattern.finditer(text))
        if found > limit:
            allowed = f"at most {limit}" if limit else "no"
            raise InvalidInput(
                f"New members can post {allowed} {label} per post (this one has {found}). "
                "The limit lifts as you take part here.",
                code=f"new_member_{label}",
                details={"body": [f"At most {limit} {label}."]},
            )
    if opening_topic:
        since = timezone.now() - datetime.timedelta(days=1)
        started = Topic.objects.filter(author_id=member.pk, created_at__gte=since).count()
        if started >= row.new_topics_per_day:
            raise NewMemberTopicLimit(
                f"New members can start {row.new_topics_per_day} topics a day; you can start another tomorrow. "
                "Replies are not limited.",
                details={"title": [f"At most {row.new_topics_per_day} topics a day."]},
            )


def flag_weight(*, member: Member, tenant: Tenant, threshold: int) -> int:
    """Moderators and leaders: the whole threshold (their flag hides at once, pending review);
    trusted members: the tenant's trusted weight; everyone else 1."""
    if can_moderate(member=member, tenant=tenant):
        return threshold
    level = trust_level(member=member)
    if level >= TrustLevel.LEADER:
        return threshold
    if level >= TrustLevel.TRUSTED:
        return max(1, min(moderation_settings().trusted_flag_weight, threshold))
    return 1
