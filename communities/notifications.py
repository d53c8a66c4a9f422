"""In-app notifications, written by the communities services in the same transaction as the post.

Rules (one place, so the list page, the API and the email digest agree):

- Never the actor; never anyone who cannot read the community (members-only: active community
  members only); never someone who muted the topic or its community.
- One notification per recipient per post: the most specific kind wins (MENTION > REPLY > WATCHED),
  and the unique constraint (recipient, post, kind) with ``ignore_conflicts`` makes a retry harmless.
- REPLY: the topic's author for every reply. QUOTE: the author of a quoted post (not "your topic").
- MENTION: ``@name`` where ``name`` equals a member of this tenant's display name with spaces removed,
  case-insensitive (``@JaneDoe`` reaches "Jane Doe"). Mentions inside code spans/blocks are ignored.
- WATCHED: members watching the topic, or watching the community (unless they set the topic lower).
- ANSWER: when a question's answer is marked, its followers (watching/tracking) and the answer's author.
- MODERATION: the post's author, when someone else removes or restores their post (with the reason
  given); the person asking to join a community, when a moderator approves or refuses.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Func, Value
from django.db.models.functions import Coalesce, Lower, NullIf, Replace
from django_tenants.utils import tenant_context

from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    CommunitySubscription,
    Notification,
    NotificationKind,
    Post,
    Topic,
    TopicSubscription,
    Visibility,
    WatchLevel,
)
from communities.tasks import deliver_notification_emails
from communities.wording import mentioned_names
from core.broker import enqueue
from members.models import Member, TenantMembership
from tenants.models import Tenant
from tenants.selectors import current_tenant

FOLLOWING_LEVELS = (WatchLevel.WATCHING, WatchLevel.TRACKING)


def _mentioned_member_ids(*, tenant: Tenant, names: set[str]) -> set[int]:
    if not names:
        return set()
    return set(
        TenantMembership.objects.filter(tenant_id=tenant.pk)
        # The name the member uses on this tenant (privacy settings), else their platform display name.
        .annotate(name_here=Coalesce(NullIf("display_name", Value("")), "member__display_name"))
        # As mentioned_names() reads "@Anna K." : spaces gone, trailing dots and hyphens dropped.
        .annotate(handle=Func(Lower(Replace("name_here", Value(" "), Value(""))), Value(".-"), function="RTRIM"))
        .filter(handle__in=names)
        .values_list("member_id", flat=True)
    )


def _muted_member_ids(*, topic: Topic) -> set[int]:
    muted_topic = TopicSubscription.objects.filter(topic_id=topic.pk, level=WatchLevel.MUTED).values_list(
        "member_id", flat=True
    )
    muted_community = CommunitySubscription.objects.filter(
        community_id=topic.community_id, level=WatchLevel.MUTED
    ).values_list("member_id", flat=True)
    return set(muted_topic) | set(muted_community)


def _filter_readers(*, community: Community, member_ids: set[int]) -> set[int]:
    """Keep only recipients who can read the community."""
    if not member_ids or community.visibility == Visibility.OPEN:
        return member_ids
    return set(
        CommunityMembership.objects.filter(
            community_id=community.pk, member_id__in=member_ids, status=CommunityMembershipStatus.ACTIVE
        ).values_list("member_id", flat=True)
    )


def _write(*, recipients: dict[int, str], post: Post, topic: Topic, actor_id: int | None, message: str) -> int:
    rows = [
        Notification(recipient_id=member_id, kind=kind, topic=topic, post=post, actor_id=actor_id, message=message)
        for member_id, kind in recipients.items()
        if member_id != actor_id
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        _schedule_email_delivery()
    return len(rows)


def _schedule_email_delivery() -> None:
    """After commit, let a worker email the members who want one email per notification."""
    tenant = current_tenant()
    if tenant is None:
        return

    def send_after_commit() -> None:
        # The task must be sent from inside the tenant's context: that is how its schema travels.
        with tenant_context(tenant):
            # A broker that is down must not fail the post: the notifications are rows already,
            # and the beat sweep (deliver_pending_notification_emails) sends them once it is back.
            enqueue(deliver_notification_emails)

    transaction.on_commit(send_after_commit)


def notify_new_post(*, tenant: Tenant, post: Post) -> int:
    """Notifications for a new topic's opening post or a reply; returns how many were written."""
    topic = post.topic
    community = topic.community
    actor_id = post.author_id
    recipients: dict[int, str] = {}

    topic_levels = dict(TopicSubscription.objects.filter(topic_id=topic.pk).values_list("member_id", "level"))
    community_watchers = set(
        CommunitySubscription.objects.filter(community_id=community.pk, level=WatchLevel.WATCHING).values_list(
            "member_id", flat=True
        )
    )
    # Least specific first, so a later, more specific kind overwrites it.
    for member_id in community_watchers:
        if topic_levels.get(member_id) in (None, WatchLevel.WATCHING):
            recipients[member_id] = NotificationKind.WATCHED
    for member_id, level in topic_levels.items():
        if level == WatchLevel.WATCHING:
            recipients[member_id] = NotificationKind.WATCHED
    if not post.is_opening:
        # "Reply to your topic" only for the topic's author; whoever was quoted hears of a quote.
        if post.quoted_post_id and post.quoted_post and post.quoted_post.author_id:
            recipients[post.quoted_post.author_id] = NotificationKind.QUOTE
        if topic.author_id:
            recipients[topic.author_id] = NotificationKind.REPLY
    for member_id in _mentioned_member_ids(tenant=tenant, names=mentioned_names(post.body_html)):
        recipients[member_id] = NotificationKind.MENTION

    muted = _muted_member_ids(topic=topic)
    allowed = _filter_readers(community=community, member_ids=set(recipients) - muted - {actor_id or 0})
    kept = {member_id: kind for member_id, kind in recipients.items() if member_id in allowed}
    return _write(recipients=kept, post=post, topic=topic, actor_id=actor_id, message=topic.title[:300])


def notify_answer(*, topic: Topic, post: Post, actor: Member) -> int:
    """A question's answer was marked: tell its followers and the answer's author."""
    followers = set(
        TopicSubscription.objects.filter(topic_id=topic.pk, level__in=FOLLOWING_LEVELS).values_list(
            "member_id", flat=True
        )
    )
    if post.author_id:
        followers.add(post.author_id)
    allowed = _filter_readers(community=topic.community, member_ids=followers - _muted_member_ids(topic=topic))
    recipients = dict.fromkeys(allowed, NotificationKind.ANSWER.value)
    return _write(
        recipients=recipients, post=post, topic=topic, actor_id=actor.pk, message=f"Answered: {topic.title}"[:300]
    )


def _with_reason(text: str, reason: str) -> str:
    reason = " ".join((reason or "").split())
    return f"{text}. Reason: {reason}" if reason else text


def notify_moderation(*, post: Post, action: str, actor: Member, reason: str = "") -> int:
    """A moderator acted on someone's post (``action`` is e.g. "removed" or "restored"); the reason
    the moderator gave is part of the message, so the author learns why."""
    if not post.author_id or post.author_id == actor.pk:
        return 0
    topic = post.topic
    recipients = {post.author_id: NotificationKind.MODERATION.value}
    return _write(
        recipients=recipients,
        post=post,
        topic=topic,
        actor_id=actor.pk,
        message=_with_reason(f"A moderator {action} your post in “{topic.title}”", reason)[:300],
    )


def notify_join_decision(
    *, community: Community, member_id: int, approved: bool, actor: Member, reason: str = ""
) -> int:
    """A moderator decided someone's request to join a community."""
    if member_id == actor.pk:
        return 0
    if approved:
        message = f"Your request to join {community.name} was approved. Welcome!"
    else:
        message = _with_reason(f"Your request to join {community.name} was not approved", reason)
    Notification.objects.create(
        recipient_id=member_id,
        kind=NotificationKind.MODERATION,
        community=community,
        actor_id=actor.pk,
        message=message[:300],
    )
    _schedule_email_delivery()
    return 1


def _replace_moderation_notices(*, post: Post, recipient_ids: set[int], actor_id: int | None, message: str) -> int:
    """One moderation notice per person per post (the unique slot): a later decision replaces it."""
    if not recipient_ids:
        return 0
    Notification.objects.filter(
        post_id=post.pk, kind=NotificationKind.MODERATION, recipient_id__in=recipient_ids
    ).delete()
    rows = [
        Notification(
            recipient_id=member_id,
            kind=NotificationKind.MODERATION,
            topic_id=post.topic_id,
            post=post,
            actor_id=actor_id,
            message=message[:300],
        )
        for member_id in recipient_ids
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    _schedule_email_delivery()
    return len(rows)


def notify_review_decision(
    *, post: Post, actor: Member | None, author_message: str, flagger_ids: list[int], flagger_message: str
) -> int:
    """A decision from the review queue: the author hears what happened (with the reason), and so
    does everyone who reported the post (never the moderator who decided)."""
    actor_id = actor.pk if actor is not None else None
    sent = 0
    if author_message and post.author_id and post.author_id != actor_id:
        sent += _replace_moderation_notices(
            post=post, recipient_ids={post.author_id}, actor_id=actor_id, message=author_message
        )
    flaggers = set(flagger_ids) - {actor_id or 0, post.author_id or 0}
    if flagger_message:
        sent += _replace_moderation_notices(
            post=post, recipient_ids=flaggers, actor_id=actor_id, message=flagger_message
        )
    return sent


def notify_escalation(*, post: Post, actor: Member, admin_ids: Iterable[int], reason: str) -> int:
    """A moderator escalated a review item: the tenant's administrators hear of it."""
    recipients = set(admin_ids) - {actor.pk}
    return _replace_moderation_notices(
        post=post,
        recipient_ids=recipients,
        actor_id=actor.pk,
        message=_with_reason(f"A moderator needs your decision on a post in “{post.topic.title}”", reason),
    )


def notify_member_restriction(*, member_id: int, actor_id: int | None, message: str) -> int:
    """A moderator silenced, suspended or reinstated a member (no post: the notice links nowhere)."""
    Notification.objects.create(
        recipient_id=member_id, kind=NotificationKind.MODERATION, actor_id=actor_id, message=message[:300]
    )
    _schedule_email_delivery()
    return 1
