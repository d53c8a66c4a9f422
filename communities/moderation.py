"""Writes for moderation (tenant schema): flags, the review queue and moderators' decisions.

Rules:
- Any active member who can see a post flags it once, with a reason (``other`` needs a few words).
  A topic is flagged through its opening post. Flags add up by weight: a member's flag weighs 1; a
  moderator's or admin's weighs the whole threshold (their report hides at once, as in Discourse);
  a trusted member's weighs ``trusted_flag_weight`` and a leader's the whole threshold too
  (leaders hide posts pending review: communities.safety).
- When a post's open flag weight reaches the tenant's threshold (ModerationSettings, default 3), it
  is hidden until a moderator decides: visible to its author and moderators only
  (selectors.content_visibility), and the hiding is logged with no actor (the rules decided).
- Every flagged or held post has one open ReviewItem; the queue is ordered by risk (urgent first),
  then oldest first.
- A decision closes the item (escalating keeps it open for the tenant admins), writes the
  append-only moderation log (who, what, when, why, text before/after), and notifies the author and
  every flagger. ``lock`` and ``move`` also approve the post: the post stays, its topic changes.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from communities import crisis, notifications, safety, watched
from communities.markdown import render_markdown
from communities.models import (
    Community,
    ContentStatus,
    CrisisTerm,
    Flag,
    FlagReason,
    MemberRestriction,
    MemberTrust,
    ModerationActionKind,
    ModerationSettings,
    OnCallModerator,
    Post,
    PostRevision,
    RestrictionKind,
    ReviewItem,
    ReviewStatus,
    RiskLevel,
    Topic,
    TrustLevel,
    WatchedWord,
    WatchedWordAction,
)
from communities.permissions import can_moderate, can_read_community, can_see_content
from communities.search import index_posts, refresh_search_vectors
from communities.selectors import moderation_settings
from communities.services import CommunityNotFound, set_post_status
from communities.services.guards import (
    _clean_body,
    _record_moderation,
    _require_admin,
    _require_moderator,
    _require_signed_in,
)
from core.errors import Conflict, InvalidInput
from members.models import Member, MembershipRole, TenantMembership
from members.services import set_membership_role
from tenants.models import Tenant
from tenants.selectors import current_tenant

FLAG_TEXT_MAX = 500
_DOMAIN_RE = re.compile(r"[a-z0-9]([a-z0-9\-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9\-]*[a-z0-9])?)+")
AUTO_HIDDEN_REASON = "Hidden after reports from members, until a moderator reviews it."


class Decision:
    APPROVE = "approve"
    HIDE = "hide"
    EDIT = "edit"
    MOVE = "move"
    LOCK = "lock"
    MISINFORMATION = "misinformation"
    ESCALATE = "escalate"

    ALL = (APPROVE, HIDE, EDIT, MOVE, LOCK, MISINFORMATION, ESCALATE)
    LABELS = {
        APPROVE: "Approve",
        HIDE: "Hide",
        EDIT: "Edit with a note",
        MOVE: "Move to another community",
        LOCK: "Lock the topic",
        MISINFORMATION: "Mark as misinformation",
        ESCALATE: "Escalate to the site's administrators",
    }


def update_moderation_settings(*, acting_member: Member, tenant: Tenant, flag_threshold: int) -> ModerationSettings:
    """Tenant moderators set how much flag weight hides a post (1–50)."""
    _require_moderator(acting_member, tenant)
    if not 1 <= int(flag_threshold) <= 50:
        raise InvalidInput("The flag threshold is a number from 1 to 50.", code="threshold_invalid")
    with transaction.atomic():
        row, _ = ModerationSettings.objects.get_or_create(pk=1)
        row.flag_threshold = int(flag_threshold)
        row.save(update_fields=["flag_threshold"])
    return row


def flag_weight(*, member: Member, tenant: Tenant, threshold: int) -> int:
    """What one member's flag counts for: by role and trust level (communities.safety)."""
    return safety.flag_weight(member=member, tenant=tenant, threshold=threshold)


# ---------------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------------


def flag_post(*, member: Member, tenant: Tenant, post: Post, reason: str, text: str = "") -> Flag:
    """Report a post. Refused for one's own post, twice for the same post, and for anything the
    member cannot see (which looks exactly like it not existing)."""
    _require_signed_in(member)
    safety.require_not_suspended(member=member, tenant=tenant)
    topic = post.topic
    if (
        not can_read_community(member=member, tenant=tenant, community=topic.community)
        or post.deleted_at is not None
        or topic.deleted_at is not None
        or not can_see_content(member=member, tenant=tenant, status=post.status, author_id=post.author_id)
    ):
        raise CommunityNotFound("No such post.")
    if reason not in FlagReason.values:
        raise InvalidInput(
            f"Choose a reason: {', '.join(FlagReason.values)}.",
            code="flag_reason_invalid",
            details={"reason": ["Choose a reason."]},
        )
    text = " ".join((text or "").split())
    if reason == FlagReason.OTHER and len(text) < 3:
        raise InvalidInput(
            "Tell the moderators what is wrong.", code="flag_text_required", details={"text": ["Required."]}
        )
    if len(text) > FLAG_TEXT_MAX:
        raise InvalidInput(f"At most {FLAG_TEXT_MAX} characters.", code="flag_text_too_long")
    if post.author_id == member.pk:
        raise InvalidInput("You can't report your own post; edit or delete it instead.", code="flag_own_post")
    threshold = moderation_settings().flag_threshold
    weight = flag_weight(member=member, tenant=tenant, threshold=threshold)
    try:
        with transaction.atomic():
            locked = Post.objects.select_for_update().get(pk=post.pk)
            flag = Flag.objects.create(post=locked, member=member, reason=reason, text=text, weight=weight)
            Post.objects.filter(pk=locked.pk).update(flag_weight=F("flag_weight") + weight)
            locked.refresh_from_db(fields=["flag_weight"])
            item = _open_item(post=locked, community_id=topic.community_id)
            if reason not in item.reasons:
                item.reasons = [*item.reasons, reason]
            if reason == FlagReason.URGENT_RISK:
                urgent = Flag.objects.filter(post_id=locked.pk, reason=FlagReason.URGENT_RISK).count()
                text = f"{topic.title}\n{locked.body_markdown}" if locked.is_opening else locked.body_markdown
                item.risk = max(item.risk, crisis.assess(text=text, urgent_flags=urgent))
            item.save(update_fields=["reasons", "risk"])
            if item.risk >= RiskLevel.MEDIUM and item.alerted_at is None:
                crisis.alert_on_call(tenant=tenant, item_id=item.pk)
            if locked.status == ContentStatus.PUBLISHED and locked.flag_weight >= threshold:
                set_post_status(locked, ContentStatus.HIDDEN, hidden_reason=AUTO_HIDDEN_REASON)
                _record_moderation(
                    kind=ModerationActionKind.AUTO_HIDDEN,
                    actor=None,
                    subject_id=locked.author_id,
                    community=topic.community,
                    topic_id=topic.pk,
                    post_id=locked.pk,
                    summary=f"Post #{locked.pk} hidden by flags (weight {locked.flag_weight}, threshold {threshold})",
                    reason=", ".join(item.reasons),
                    before_text=locked.body_markdown,
                )
                notifications.notify_review_decision(
                    post=locked,
                    actor=None,
                    author_message=f"Your post in “{topic.title}” is hidden until a moderator reviews it",
                    flagger_ids=[],
                    flagger_message="",
                )
    except IntegrityError as error:
        raise Conflict("You already reported this post.", code="already_flagged") from error
    return flag


def _open_item(*, post: Post, community_id: int) -> ReviewItem:
    item = ReviewItem.objects.select_for_update().filter(post_id=post.pk, status=ReviewStatus.OPEN).first()
    if item is None:
        item = ReviewItem.objects.create(post=post, community_id=community_id)
    return item


# ---------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInput:
    decision: str
    reason: str = ""
    body: str = ""
    link: str = ""
    community: Community | None = None


def _clean_link(link: str) -> str:
    link = (link or "").strip()
    try:
        URLValidator(schemes=["https", "http"])(link)
    except ValidationError as error:
        raise InvalidInput(
            "Add a link to a trusted resource (an https:// address).",
            code="link_invalid",
            details={"link": ["A web address."]},
        ) from error
    return link


def decide(*, acting_member: Member, tenant: Tenant, item: ReviewItem, choice: DecisionInput) -> ReviewItem:
    """Apply a moderator's decision to an open review item (see the module docstring)."""
    _require_moderator(acting_member, tenant)
    if choice.decision not in Decision.ALL:
        raise InvalidInput(f"Decision is one of: {', '.join(Decision.ALL)}.", code="decision_invalid")
    reason = " ".join((choice.reason or "").split())[:500]
    if choice.decision in (Decision.HIDE, Decision.EDIT, Decision.MISINFORMATION, Decision.ESCALATE) and not reason:
        raise InvalidInput(
            "Say why: the author (or the administrators) will read it.",
            code="reason_required",
            details={"reason": ["Required."]},
        )
    body = _clean_body(choice.body) if choice.decision == Decision.EDIT else ""
    link = _clean_link(choice.link) if choice.decision == Decision.MISINFORMATION else ""
    target = choice.community
    if choice.decision == Decision.MOVE and target is None:
        raise InvalidInput("Choose the community to move it to.", code="community_required")
    with transaction.atomic():
        locked = ReviewItem.objects.select_for_update().filter(pk=item.pk).first()
        if locked is None or locked.status != ReviewStatus.OPEN:
            raise Conflict("Another moderator already decided this.", code="review_decided")
        post = Post.objects.select_related("topic__community").select_for_update(of=("self",)).get(pk=locked.post_id)
        topic = post.topic
        if choice.decision == Decision.MOVE and target is not None and target.pk == topic.community_id:
            raise InvalidInput("It is already in that community.", code="community_same")
        before = post.body_markdown
        after = ""
        log_kind, summary, author_message = _apply(
            choice=choice, post=post, topic=topic, actor=acting_member, reason=reason, body=body, link=link
        )
        if choice.decision == Decision.EDIT:
            after = post.body_markdown
        if choice.decision == Decision.ESCALATE:
            locked.escalated = True
            locked.save(update_fields=["escalated"])
        else:
            locked.status = ReviewStatus.DECIDED
            locked.decided_at = timezone.now()
            locked.decided_by = acting_member
            locked.decision = choice.decision
            locked.save(update_fields=["status", "decided_at", "decided_by", "decision"])
            Flag.objects.filter(post_id=post.pk, resolved_at__isnull=True).update(resolved_at=locked.decided_at)
            if choice.decision != Decision.HIDE:
                Post.objects.filter(pk=post.pk).update(flag_weight=0)
        _record_moderation(
            kind=log_kind,
            actor=acting_member,
            subject_id=post.author_id,
            community=Community.objects.get(pk=topic.community_id),
            topic_id=topic.pk,
            post_id=post.pk,
            summary=summary,
            reason=reason,
            before_text=before,
            after_text=after,
        )
        flagger_ids = list(
            Flag.objects.filter(post_id=post.pk, member__isnull=False).values_list("member_id", flat=True)
        )
        notifications.notify_review_decision(
            post=post,
            actor=acting_member,
            author_message=author_message,
            flagger_ids=flagger_ids,
            flagger_message=f"A moderator reviewed a post you reported in “{topic.title}”: {summary.lower()}",
        )
        if choice.decision == Decision.ESCALATE:
            notifications.notify_escalation(post=post, actor=acting_member, admin_ids=_admin_ids(tenant), reason=reason)
    if choice.decision in safety.UPHELD_DECISIONS and post.author is not None:
        # Upheld flags can cost the author a trust level.
        safety.evaluate_trust(member=post.author, tenant=tenant)
    return locked


def _apply(
    *, choice: DecisionInput, post: Post, topic: Topic, actor: Member, reason: str, body: str, link: str
) -> tuple[str, str, str]:
    """Do what the decision says to the post and topic; returns (log kind, summary, author message)."""
    where = f"“{topic.title}”"
    if choice.decision == Decision.APPROVE:
        _publish(post)
        return ModerationActionKind.POST_APPROVED, f"Approved post #{post.pk}", f"Your post in {where} was approved"
    if choice.decision == Decision.HIDE:
        set_post_status(post, ContentStatus.HIDDEN, hidden_reason=reason)
        return (
            ModerationActionKind.POST_HIDDEN,
            f"Hid post #{post.pk}",
            f"A moderator hid your post in {where}. Reason: {reason}",
        )
    if choice.decision == Decision.EDIT:
        PostRevision.objects.create(
            post=post, body_markdown=post.body_markdown, body_html=post.body_html, edited_by=actor
        )
        post.body_markdown, post.body_html = body, render_markdown(body)
        post.edited_at = timezone.now()
        Post.objects.filter(pk=post.pk).update(
            body_markdown=post.body_markdown,
            body_html=post.body_html,
            edited_at=post.edited_at,
            edit_count=F("edit_count") + 1,
        )
        _publish(post)
        if post.is_opening:
            refresh_search_vectors(topic_ids=[topic.pk])
        else:
            index_posts(post_ids=[post.pk])
        return (
            ModerationActionKind.POST_EDITED,
            f"Edited post #{post.pk}",
            f"A moderator edited your post in {where}. Note: {reason}",
        )
    if choice.decision == Decision.MOVE:
        assert choice.community is not None
        old_name = topic.community.name
        Topic.objects.filter(pk=topic.pk).update(community=choice.community)
        # Posts keep a copy of their community for search's community filter: it moves with them.
        Post.objects.filter(topic_id=topic.pk).update(community=choice.community)
        # Tags belong to a community: the old community's tags don't follow the topic.
        topic.tags.clear()
        ReviewItem.objects.filter(post__topic_id=topic.pk).update(community=choice.community)
        refresh_search_vectors(topic_ids=[topic.pk])
        _publish(post)
        return (
            ModerationActionKind.TOPIC_MOVED,
            f"Moved topic #{topic.pk} from {old_name} to {choice.community.name}",
            f"A moderator moved {where} to {choice.community.name}",
        )
    if choice.decision == Decision.LOCK:
        Topic.objects.filter(pk=topic.pk).update(locked_at=timezone.now())
        _publish(post)
        return (
            ModerationActionKind.TOPIC_LOCKED,
            f"Locked topic #{topic.pk}",
            f"A moderator locked {where}" + (f". Reason: {reason}" if reason else ""),
        )
    if choice.decision == Decision.MISINFORMATION:
        Post.objects.filter(pk=post.pk).update(misinformation_note=reason, misinformation_url=link)
        _publish(post)
        return (
            ModerationActionKind.MISINFORMATION,
            f"Marked post #{post.pk} as misinformation",
            f"A moderator added a note to your post in {where}: {reason}",
        )
    # The author hears that their post is with the administrators, in neutral words: the moderator's
    # reason is written for the administrators (notify_escalation), not for the author.
    return (
        ModerationActionKind.ESCALATED,
        f"Escalated post #{post.pk} to the administrators",
        f"Your post in {where} is being reviewed by the community's administrators. You'll hear when they decide.",
    )


def _publish(post: Post) -> None:
    """Make a held or hidden post visible; a held post's notifications go out now, as if just posted."""
    was_held = post.status == ContentStatus.HELD
    if post.status != ContentStatus.PUBLISHED:
        set_post_status(post, ContentStatus.PUBLISHED)
    if was_held:
        if not post.is_opening:
            Topic.objects.filter(pk=post.topic_id).update(last_activity_at=timezone.now())
        tenant = current_tenant()
        if tenant is not None:
            notifications.notify_new_post(tenant=tenant, post=post)


def _admin_ids(tenant: Tenant) -> Iterable[int]:
    return TenantMembership.objects.filter(tenant_id=tenant.pk, role=MembershipRole.ADMIN).values_list(
        "member_id", flat=True
    )


def review_item_for_moderator(*, member: Member, tenant: Tenant, item_id: int) -> ReviewItem:
    """An item of this tenant's queue; anyone but a moderator gets "not found" (so ids reveal nothing)."""
    if not can_moderate(member=member, tenant=tenant):
        raise CommunityNotFound("No such review item.")
    item = ReviewItem.objects.select_related("post__topic__community").filter(pk=item_id).first()
    if item is None:
        raise CommunityNotFound("No such review item.")
    return item


# ---------------------------------------------------------------------------------------------
# Watched words and link rules (moderators)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternTrial:
    matched: bool
    outcome: str
    text: str
    message: str


def try_pattern(
    *, acting_member: Member, tenant: Tenant, pattern: str, is_regex: bool, action: str, replacement: str, sample: str
) -> PatternTrial:
    """What a watched word would do to a sample text, before saving it (nothing is written)."""
    _require_moderator(acting_member, tenant)
    action = _clean_action(action)
    rule = watched.Rule(
        source=watched.compile_source(pattern=pattern, is_regex=is_regex),
        action=action,
        replacement=replacement,
        message="",
        label=pattern,
    )
    screening = watched.RuleSet([rule]).screen(sample[:20_000])
    if not screening.matched:
        return PatternTrial(matched=False, outcome="none", text=sample, message="No match in the sample.")
    descriptions = {
        WatchedWordAction.BLOCK: "The post would be refused.",
        WatchedWordAction.HOLD: "The post would wait for a moderator.",
        WatchedWordAction.FLAG: "The post would be published and put in the review queue.",
        WatchedWordAction.CENSOR: "The matched words would be replaced with ****.",
        WatchedWordAction.REPLACE: "The matched words would be replaced.",
    }
    return PatternTrial(
        matched=True, outcome=action, text=screening.text, message=descriptions[WatchedWordAction(action)]
    )


def _clean_action(action: str) -> str:
    if action not in WatchedWordAction.values:
        raise InvalidInput(
            f"Action is one of: {', '.join(WatchedWordAction.values)}.",
            code="action_invalid",
            details={"action": ["Choose an action."]},
        )
    return action


def add_watched_word(
    *,
    acting_member: Member,
    tenant: Tenant,
    pattern: str,
    is_regex: bool = False,
    action: str,
    replacement: str = "",
    message: str = "",
) -> WatchedWord:
    """Moderators add a watched word; a pattern RE2 can't run is refused with the reason."""
    _require_moderator(acting_member, tenant)
    action = _clean_action(action)
    pattern = (pattern or "").strip()
    watched.compile_source(pattern=pattern, is_regex=is_regex)
    if action == WatchedWordAction.REPLACE and not replacement.strip():
        raise InvalidInput(
            "Say what to replace it with.", code="replacement_required", details={"replacement": ["Required."]}
        )
    try:
        with transaction.atomic():
            word = WatchedWord.objects.create(
                pattern=pattern,
                is_regex=is_regex,
                action=action,
                replacement=replacement.strip()[:200],
                message=" ".join(message.split())[:300],
                created_by=acting_member,
            )
            _record_moderation(
                kind=ModerationActionKind.RULES_CHANGED,
                actor=acting_member,
                summary=f"Added the watched {'pattern' if is_regex else 'word'} “{pattern}” ({action})"[:300],
            )
    except IntegrityError as error:
        raise Conflict("That word is already watched with that action.", code="watched_word_exists") from error
    return word


def remove_watched_word(*, acting_member: Member, tenant: Tenant, word: WatchedWord) -> None:
    _require_moderator(acting_member, tenant)
    with transaction.atomic():
        deleted, _ = WatchedWord.objects.filter(pk=word.pk).delete()
        if deleted:
            _record_moderation(
                kind=ModerationActionKind.RULES_CHANGED,
                actor=acting_member,
                summary=f"Removed the watched word “{word.pattern}” ({word.action})"[:300],
            )


def update_link_rules(
    *,
    acting_member: Member,
    tenant: Tenant,
    new_members_may_link: bool,
    new_member_posts: int,
    allowed_domains: str,
    denied_domains: str,
) -> ModerationSettings:
    """Moderators set the link rules (see communities.watched)."""
    _require_moderator(acting_member, tenant)
    if not 0 <= int(new_member_posts) <= 100:
        raise InvalidInput("New-member posts: a number from 0 to 100.", code="new_member_posts_invalid")
    cleaned = {}
    for name, text in (("allowed", allowed_domains), ("denied", denied_domains)):
        domains = [line.strip().lower() for line in (text or "").splitlines() if line.strip()]
        bad = [d for d in domains if not _DOMAIN_RE.fullmatch(d)]
        if bad:
            raise InvalidInput(
                f"Not a domain: {', '.join(bad[:3])}.",
                code="domain_invalid",
                details={f"{name}_domains": [f"Not a domain: {bad[0]}"]},
            )
        cleaned[name] = "\n".join(domains)
    with transaction.atomic():
        row, _ = ModerationSettings.objects.get_or_create(pk=1)
        row.new_members_may_link = bool(new_members_may_link)
        row.new_member_posts = int(new_member_posts)
        row.link_allowed_domains = cleaned["allowed"]
        row.link_denied_domains = cleaned["denied"]
        row.save()
        _record_moderation(
            kind=ModerationActionKind.RULES_CHANGED,
            actor=acting_member,
            summary="Changed the link rules",
            after_text=f"new members may link: {row.new_members_may_link}; new until {row.new_member_posts} posts; "
            f"allowed: {cleaned['allowed'] or '-'}; denied: {cleaned['denied'] or '-'}",
        )
    return row


# ---------------------------------------------------------------------------------------------
# Crisis escalation settings (moderators)
# ---------------------------------------------------------------------------------------------

RISK_NAMES = {"low": RiskLevel.LOW, "medium": RiskLevel.MEDIUM, "high": RiskLevel.HIGH}


def update_crisis_settings(
    *,
    acting_member: Member,
    tenant: Tenant,
    resources: str,
    terms: Iterable[tuple[str, str]],
    on_call_member_ids: Iterable[int],
) -> ModerationSettings:
    """Replace the crisis resources, the crisis-language list ((phrase, "low"|"medium"|"high") pairs)
    and who is on call (moderators or admins of this tenant only)."""
    _require_moderator(acting_member, tenant)
    lines = [line.strip() for line in (resources or "").splitlines() if line.strip()]
    if not lines:
        raise InvalidInput(
            "List at least one crisis resource.", code="resources_required", details={"resources": ["Required."]}
        )
    cleaned: dict[str, int] = {}
    for phrase, risk in terms:
        phrase = " ".join(phrase.split()).lower()
        if risk not in RISK_NAMES:
            raise InvalidInput(f"Risk is low, medium or high, not “{risk}”.", code="risk_invalid")
        watched.compile_source(pattern=phrase, is_regex=False)
        cleaned[phrase] = RISK_NAMES[risk]
    if not cleaned:
        raise InvalidInput("Keep at least one crisis phrase.", code="terms_required", details={"terms": ["Required."]})
    wanted = set(on_call_member_ids)
    moderating = set(
        TenantMembership.objects.filter(
            tenant_id=tenant.pk, member_id__in=wanted, role__in=(MembershipRole.MODERATOR, MembershipRole.ADMIN)
        ).values_list("member_id", flat=True)
    )
    if wanted - moderating:
        raise InvalidInput("Only this site's moderators can be on call.", code="on_call_not_moderator")
    with transaction.atomic():
        row, _ = ModerationSettings.objects.get_or_create(pk=1)
        before = f"{row.crisis_resources}\n--\n" + "\n".join(
            f"{t.get_risk_display()}: {t.phrase}" for t in CrisisTerm.objects.all()
        )
        row.crisis_resources = "\n".join(lines)
        row.save(update_fields=["crisis_resources"])
        CrisisTerm.objects.exclude(phrase__in=list(cleaned)).delete()
        for phrase, level in cleaned.items():
            CrisisTerm.objects.update_or_create(phrase=phrase, defaults={"risk": level})
        OnCallModerator.objects.exclude(member_id__in=moderating).delete()
        for member_id in moderating:
            OnCallModerator.objects.get_or_create(member_id=member_id)
        _record_moderation(
            kind=ModerationActionKind.RULES_CHANGED,
            actor=acting_member,
            summary=f"Changed the crisis settings ({len(cleaned)} phrases, {len(moderating)} on call)",
            before_text=before,
            after_text=f"{row.crisis_resources}\n--\n"
            + "\n".join(f"{RiskLevel(r).label}: {p}" for p, r in sorted(cleaned.items())),
        )
    return row


# ---------------------------------------------------------------------------------------------
# Members: silence, suspend, trust level (moderators); moderators (admins)
# ---------------------------------------------------------------------------------------------

RESTRICTION_DAYS_MAX = 3650


def _tenant_member(*, tenant: Tenant, member: Member) -> None:
    if not TenantMembership.objects.filter(tenant_id=tenant.pk, member_id=member.pk).exists():
        raise CommunityNotFound("No such member here.")


def _notify_member(*, member_id: int, actor: Member | None, message: str) -> None:
    notifications.notify_member_restriction(
        member_id=member_id, actor_id=actor.pk if actor is not None else None, message=message
    )


def restrict_member(
    *, acting_member: Member, tenant: Tenant, member: Member, kind: str, reason: str, days: int | None
) -> MemberRestriction:
    """Silence (``days`` required) or suspend (``days`` or None: until lifted) a member of this tenant.

    Logged, and the member is told the end date and the reason. Moderators and admins of the tenant
    (and platform staff) cannot be restricted here: change their role first."""
    _require_moderator(acting_member, tenant)
    _tenant_member(tenant=tenant, member=member)
    if kind not in RestrictionKind.values:
        raise InvalidInput(
            f"Choose one of: {', '.join(RestrictionKind.values)}.", code="restriction_invalid",
            details={"kind": ["Unknown kind."]},
        )  # fmt: skip
    if member.pk == acting_member.pk or member.is_staff or can_moderate(member=member, tenant=tenant):
        raise InvalidInput(
            "Moderators, administrators and platform staff can't be silenced or suspended; change their role first.",
            code="restriction_privileged",
        )
    reason = " ".join((reason or "").split())[:500]
    if len(reason) < 3:
        raise InvalidInput(
            "Say why: the member will read it.", code="reason_required", details={"reason": ["Required."]}
        )
    if days is None and kind == RestrictionKind.SILENCED:
        raise InvalidInput("Say for how many days.", code="days_required", details={"days": ["Required."]})
    if days is not None:
        try:
            days = int(days)
        except (TypeError, ValueError):
            days = 0
        if not 1 <= days <= RESTRICTION_DAYS_MAX:
            raise InvalidInput(
                f"Days: a number from 1 to {RESTRICTION_DAYS_MAX}.", code="days_invalid", details={"days": ["1–3650."]}
            )
    now = timezone.now()
    ends_at = now + datetime.timedelta(days=days) if days is not None else None
    with transaction.atomic():
        restriction = MemberRestriction.objects.create(
            member=member, kind=kind, reason=reason, ends_at=ends_at, created_by=acting_member
        )
        until = safety.describe_until(ends_at)
        silenced = kind == RestrictionKind.SILENCED
        _record_moderation(
            kind=ModerationActionKind.MEMBER_SILENCED if silenced else ModerationActionKind.MEMBER_SUSPENDED,
            actor=acting_member,
            subject_id=member.pk,
            summary=f"{'Silenced' if silenced else 'Suspended'} a member {until}",
            reason=reason,
        )
        what = (
            "silenced you: you can read and report posts, but not post, reply or react"
            if silenced
            else "suspended you from taking part here"
        )
        _notify_member(
            member_id=member.pk,
            actor=acting_member,
            message=f"A moderator {what} {until}. Reason: {reason}. You can still read and export your data.",
        )
    return restriction


def lift_restriction(
    *, acting_member: Member, tenant: Tenant, restriction: MemberRestriction, reason: str = ""
) -> MemberRestriction:
    """End a silence or suspension now (logged; the member is told)."""
    _require_moderator(acting_member, tenant)
    with transaction.atomic():
        locked = MemberRestriction.objects.select_for_update().filter(pk=restriction.pk).first()
        if locked is None or locked.lifted_at is not None:
            raise Conflict("That was already lifted.", code="restriction_lifted")
        locked.lifted_at = timezone.now()
        locked.lifted_by = acting_member
        locked.save(update_fields=["lifted_at", "lifted_by"])
        _record_moderation(
            kind=ModerationActionKind.RESTRICTION_LIFTED,
            actor=acting_member,
            subject_id=locked.member_id,
            summary=f"Lifted a member's {locked.kind} restriction",
            reason=reason,
        )
        _notify_member(
            member_id=locked.member_id,
            actor=acting_member,
            message=f"A moderator lifted your {locked.get_kind_display().split(':')[0].lower()} restriction: "
            "you can take part again.",
        )
    return locked


def restriction_for_moderator(*, member: Member, tenant: Tenant, restriction_id: int) -> MemberRestriction:
    if not can_moderate(member=member, tenant=tenant):
        raise CommunityNotFound("No such restriction.")
    restriction = MemberRestriction.objects.filter(pk=restriction_id).first()
    if restriction is None:
        raise CommunityNotFound("No such restriction.")
    return restriction


def set_trust_level(
    *, acting_member: Member, tenant: Tenant, member: Member, level: str, reason: str = "", locked: bool = True
) -> MemberTrust:
    """A moderator sets a member's trust level; ``locked`` (default) keeps the rules from moving it.
    ``locked=False`` hands the member back to the rules (re-evaluated at once)."""
    _require_moderator(acting_member, tenant)
    _tenant_member(tenant=tenant, member=member)
    if level not in safety.LEVEL_NAMES:
        raise InvalidInput(
            f"Level is one of: {', '.join(safety.LEVEL_NAMES)}.", code="trust_level_invalid",
            details={"level": ["Unknown level."]},
        )  # fmt: skip
    value = safety.LEVEL_NAMES[level]
    with transaction.atomic():
        row, _ = MemberTrust.objects.select_for_update().get_or_create(member_id=member.pk)
        old = TrustLevel(row.level).label
        row.level, row.locked = value, bool(locked)
        row.save(update_fields=["level", "locked", "updated_at"])
        _record_moderation(
            kind=ModerationActionKind.TRUST_CHANGED,
            actor=acting_member,
            subject_id=member.pk,
            summary=f"Trust level {old} → {TrustLevel(value).label}"
            + (" (locked)" if locked else " (rules decide again)"),
            reason=reason,
        )
    if not locked:
        safety.evaluate_trust(member=member, tenant=tenant)
        row.refresh_from_db()
    return row


SLOW_MODE_MAX_MINUTES = 24 * 60


def set_slow_mode(*, acting_member: Member, tenant: Tenant, topic: Topic, minutes: int, reason: str = "") -> Topic:
    """Moderators calm a topic: each member may post there once per ``minutes`` (0 turns it off)."""
    _require_moderator(acting_member, tenant)
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = -1
    if not 0 <= minutes <= SLOW_MODE_MAX_MINUTES:
        raise InvalidInput(
            f"Minutes: a number from 0 (off) to {SLOW_MODE_MAX_MINUTES}.", code="slow_mode_invalid",
            details={"minutes": [f"0–{SLOW_MODE_MAX_MINUTES}."]},
        )  # fmt: skip
    with transaction.atomic():
        Topic.objects.filter(pk=topic.pk).update(slow_mode_minutes=minutes)
        before = topic.slow_mode_minutes
        topic.slow_mode_minutes = minutes
        _record_moderation(
            kind=ModerationActionKind.SLOW_MODE,
            actor=acting_member,
            community=Community.objects.get(pk=topic.community_id),
            topic_id=topic.pk,
            summary=f"Slow mode in topic #{topic.pk}: " + (f"one post per {minutes} min" if minutes else "off"),
            reason=reason,
            before_text=f"{before} min",
            after_text=f"{minutes} min",
        )
    return topic


MODERATOR_ROLES = (MembershipRole.MODERATOR, MembershipRole.ADMIN)


def set_moderator(*, acting_member: Member, tenant: Tenant, member: Member, moderator: bool, reason: str = "") -> str:
    """Tenant admins add a member as moderator, or make a moderator a member again (roles are kept
    in step with the tenant's groups by members.services). Admins are changed from the role API."""
    _require_admin(acting_member, tenant)
    membership = TenantMembership.objects.filter(tenant_id=tenant.pk, member_id=member.pk).first()
    if membership is None:
        raise CommunityNotFound("No such member here.")
    if membership.role == MembershipRole.ADMIN:
        raise InvalidInput("That person is an administrator; change their role instead.", code="member_is_admin")
    role = MembershipRole.MODERATOR if moderator else MembershipRole.MEMBER
    if membership.role == role:
        return role
    with transaction.atomic():
        set_membership_role(acting_member=acting_member, tenant=tenant, member=member, role=role, reason=reason)
        _record_moderation(
            kind=ModerationActionKind.ROLE_CHANGED,
            actor=acting_member,
            subject_id=member.pk,
            summary="Made a member a moderator" if moderator else "Removed a moderator",
            reason=reason,
        )
        if not moderator:
            OnCallModerator.objects.filter(member_id=member.pk).delete()
    return role


TRUST_SETTING_LIMITS = {
    "new_max_links": (0, 50),
    "new_max_images": (0, 50),
    "new_max_mentions": (0, 50),
    "new_topics_per_day": (0, 100),
    "trusted_flag_weight": (1, 50),
    "demote_after_upheld_flags": (0, 100),
}


def update_trust_settings(
    *, acting_member: Member, tenant: Tenant, requirements: dict[str, Any] | None = None, **numbers: int
) -> ModerationSettings:
    """Moderators tune the trust ladder: promotion thresholds (communities.safety.clean_requirements),
    new members' limits, a trusted flag's weight and how many upheld flags cost a level (0: never)."""
    _require_moderator(acting_member, tenant)
    unknown = set(numbers) - set(TRUST_SETTING_LIMITS)
    if unknown:
        raise InvalidInput(f"Unknown settings: {', '.join(sorted(unknown))}.", code="field_unknown")
    cleaned: dict[str, int] = {}
    for name, value in numbers.items():
        low, high = TRUST_SETTING_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(
                f"{name.replace('_', ' ').capitalize()}: a number from {low} to {high}.",
                code="trust_setting_invalid",
                details={name: [f"{low}–{high}."]},
            )
        cleaned[name] = value
    ladder = safety.clean_requirements(requirements) if requirements is not None else None
    with transaction.atomic():
        row, _ = ModerationSettings.objects.get_or_create(pk=1)
        before = _trust_settings_text(row)
        for name, value in cleaned.items():
            setattr(row, name, value)
        if ladder is not None:
            row.trust_requirements = ladder
        row.save()
        _record_moderation(
            kind=ModerationActionKind.RULES_CHANGED,
            actor=acting_member,
            summary="Changed the trust ladder settings",
            before_text=before,
            after_text=_trust_settings_text(row),
        )
    return row


def _trust_settings_text(row: ModerationSettings) -> str:
    ladder = safety.requirements(row)
    return "; ".join(
        [f"{name}: " + ", ".join(f"{k} {v}" for k, v in values.items()) for name, values in ladder.items()]
        + [f"{name} {getattr(row, name)}" for name in TRUST_SETTING_LIMITS]
    )
