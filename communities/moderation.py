"""Writes for moderation (tenant schema): flags, the review queue and moderators' decisions.

Rules:
- Any active member who can see a post flags it once, with a reason (``other`` needs a few words).
  A topic is flagged through its opening post. Flags add up by weight: a member's flag weighs 1; a
  moderator's or admin's weighs the whole threshold (their report hides at once, as in Discourse).
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

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from communities import crisis, notifications, watched
from communities.markdown import render_markdown
from communities.models import (
    Community,
    ContentStatus,
    CrisisTerm,
    Flag,
    FlagReason,
    ModerationActionKind,
    ModerationSettings,
    OnCallModerator,
    Post,
    PostRevision,
    ReviewItem,
    ReviewStatus,
    RiskLevel,
    Topic,
    WatchedWord,
    WatchedWordAction,
)
from communities.search import index_posts, refresh_search_vectors
from communities.selectors import can_moderate, can_read_community, can_see_content, moderation_settings
from communities.services import (
    CommunityNotFound,
    _clean_body,
    _record_moderation,
    _require_moderator,
    _require_signed_in,
)
from config.errors import Conflict, InvalidInput
from members.models import Member, MembershipRole, TenantMembership
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
    """What one member's flag counts for (see the module docstring)."""
    if can_moderate(member=member, tenant=tenant):
        return threshold
    return 1


# ---------------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------------


def flag_post(*, member: Member, tenant: Tenant, post: Post, reason: str, text: str = "") -> Flag:
    """Report a post. Refused for one's own post, twice for the same post, and for anything the
    member cannot see (which looks exactly like it not existing)."""
    _require_signed_in(member)
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
                _set_status(locked, ContentStatus.HIDDEN, hidden_reason=AUTO_HIDDEN_REASON)
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


def _set_status(post: Post, status: str, *, hidden_reason: str = "") -> None:
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
        _set_status(post, ContentStatus.HIDDEN, hidden_reason=reason)
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
    return (
        ModerationActionKind.ESCALATED,
        f"Escalated post #{post.pk} to the administrators",
        "",
    )


def _publish(post: Post) -> None:
    """Make a held or hidden post visible; a held post's notifications go out now, as if just posted."""
    was_held = post.status == ContentStatus.HELD
    if post.status != ContentStatus.PUBLISHED:
        _set_status(post, ContentStatus.PUBLISHED)
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
