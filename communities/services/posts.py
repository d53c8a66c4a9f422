"""Topics and posts: start, reply, edit, delete and restore."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from communities import crisis, notifications, safety, watched, wording
from communities.markdown import render_markdown
from communities.models import (
    Community,
    ContentStatus,
    ModerationActionKind,
    Notification,
    NotificationKind,
    Post,
    PostRevision,
    ReviewItem,
    Tag,
    TagKind,
    TagStatus,
    Topic,
    TopicKind,
    TopicSubscription,
    WatchLevel,
)
from communities.permissions import (
    can_moderate,
    is_author,
    may_take_down_post,
    within_edit_window,
)
from communities.search import index_posts, refresh_search_vectors
from communities.services.guards import (
    _check_posting_rate,
    _clean_body,
    _clean_title,
    _community_of,
    _lock_poster,
    _queue_edit_for_review,
    _queue_for_review,
    _record_moderation,
    _require_moderator,
    _require_participant,
    _require_signed_in,
    needs_premoderation,
)
from communities.services.tags import _clean_tag, _propose
from core.errors import InvalidInput, NotAllowed
from members.models import Member
from members.selectors import tenant_name_of
from tenants.models import Tenant


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
    # Crisis language is rated as for a new post (title and body of an opening post), against the text
    # before the edit: only a higher risk queues the post and alerts the on-call moderators.
    if post.is_opening:
        previous_risk, risk = crisis.assess_edit(
            post=post,
            old_text=f"{post.topic.title}\n{post.body_markdown}",
            new_text=f"{new_title if new_title is not None else post.topic.title}\n{body}",
        )
    else:
        previous_risk, risk = crisis.assess_edit(post=post, old_text=post.body_markdown, new_text=body)
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
        item = _queue_edit_for_review(
            tenant=tenant, post=post, screening=screening, risk=risk, previous_risk=previous_risk
        )
        if item is not None and screening.hold and post.status == ContentStatus.PUBLISHED:
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
