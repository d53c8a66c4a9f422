"""What communities hold about a member, per tenant schema: export and erasure (privacy registry).

Erasure choices (issue 5):
- The member's posts are kept as "A former member" (``keep_posts``) or their text is replaced by
  "[removed]"; either way the thread stays intact and other members' replies keep their place.
  Topics they opened lose their author (and their title, unless posts are kept).
- A post quoting the member names them in its rendered text ("Anna wrote: ..."): the quote is
  re-rendered as "A former member wrote:" followed by the quoted post's text as it is after erasure
  (so "[removed]" when posts are not kept). Earlier revisions of quoting posts are re-rendered too.
- ``@name`` mentions of the member in anyone's posts become ``@former-member``.
- Reactions, follows, memberships, notifications for them and earlier revisions of their posts are
  deleted (counters move down with them); their name on others' rows (actor, remover, editor, tag
  proposer) is cleared.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from communities.markdown import render_markdown
from communities.models import (
    CommunityMembership,
    CommunitySubscription,
    Flag,
    MemberRestriction,
    MemberTrust,
    ModerationAction,
    Notification,
    OnCallModerator,
    Post,
    PostRevision,
    Reaction,
    ReviewItem,
    Tag,
    Topic,
    TopicRead,
    TopicSubscription,
    WatchedWord,
)
from communities.search import index_posts, refresh_search_vectors
from communities.services import REACTION_COUNTERS
from communities.wording import (
    FORMER_HANDLE,
    FORMER_MEMBER,
    REMOVED_HTML,
    REMOVED_TEXT,
    handle_of,
    mention_of,
    quote_markdown,
)
from members.models import Member, TenantMembership
from privacy.registry import register_personal_data


def export_member_data(member: Member) -> dict[str, Any]:
    posts = Post.objects.filter(author_id=member.pk).select_related("topic").order_by("created_at", "id")
    return {
        "community_memberships": [
            {"community": m.community.slug, "community_name": m.community.name, "status": m.status,
             "joined_at": m.joined_at}
            for m in CommunityMembership.objects.filter(member_id=member.pk).select_related("community")
        ],
        "topics": [
            {"id": t.pk, "community": t.community.slug, "kind": t.kind, "title": t.title, "created_at": t.created_at,
             "removed_at": t.deleted_at}
            for t in Topic.objects.filter(author_id=member.pk).select_related("community").order_by("created_at")
        ],
        "posts": [
            {"id": p.pk, "topic_id": p.topic_id, "topic_title": p.topic.title, "is_opening": p.is_opening,
             "quoted_post_id": p.quoted_post_id, "body_markdown": p.body_markdown, "created_at": p.created_at,
             "edited_at": p.edited_at, "removed_at": p.deleted_at}
            for p in posts
        ],
        "earlier_versions_of_my_posts": [
            {"post_id": r.post_id, "body_markdown": r.body_markdown, "replaced_at": r.replaced_at}
            for r in PostRevision.objects.filter(post__author_id=member.pk).order_by("replaced_at")
        ],
        "reactions": [
            {"post_id": r.post_id, "kind": r.kind, "created_at": r.created_at}
            for r in Reaction.objects.filter(member_id=member.pk).order_by("created_at")
        ],
        "topic_follows": [
            {"topic_id": s.topic_id, "topic_title": s.topic.title, "level": s.level, "updated_at": s.updated_at}
            for s in TopicSubscription.objects.filter(member_id=member.pk).select_related("topic")
        ],
        "community_follows": [
            {"community": s.community.slug, "level": s.level, "updated_at": s.updated_at}
            for s in CommunitySubscription.objects.filter(member_id=member.pk).select_related("community")
        ],
        "notifications": [
            {"kind": n.kind, "message": n.message, "topic_id": n.topic_id, "post_id": n.post_id,
             "created_at": n.created_at, "read_at": n.read_at}
            for n in Notification.objects.filter(recipient_id=member.pk).order_by("created_at")
        ],
        "tag_proposals": [
            {"community": t.community.slug, "kind": t.kind, "name": t.name, "status": t.status}
            for t in Tag.objects.filter(proposed_by_id=member.pk).select_related("community")
        ],
        "moderation_decisions_about_me": [
            _decision(action) for action in ModerationAction.objects.filter(subject_id=member.pk)
            .select_related("community").order_by("created_at", "id")
        ],
        "on_call_for_urgent_posts": OnCallModerator.objects.filter(member_id=member.pk).exists(),
        "my_reports": [
            {"post_id": f.post_id, "reason": f.reason, "text": f.text, "created_at": f.created_at,
             "resolved_at": f.resolved_at}
            for f in Flag.objects.filter(member_id=member.pk).order_by("created_at")
        ],
        "silences_and_suspensions": [
            {"kind": r.kind, "reason": r.reason, "starts_at": r.starts_at, "ends_at": r.ends_at,
             "lifted_at": r.lifted_at}
            for r in MemberRestriction.objects.filter(member_id=member.pk).order_by("starts_at")
        ],
        "trust_level": [
            {"level": t.get_level_display(), "set_by_a_moderator": t.locked, "posts_read": t.posts_read}
            for t in MemberTrust.objects.filter(member_id=member.pk)
        ],
        "topics_read": [
            {"topic_id": r.topic_id, "posts_seen": r.posts_seen, "updated_at": r.updated_at}
            for r in TopicRead.objects.filter(member_id=member.pk).order_by("topic_id")
        ],
        "moderation_decisions_i_took": [
            _decision(action) for action in ModerationAction.objects.filter(actor_id=member.pk)
            .select_related("community").order_by("created_at", "id")
        ],
    }  # fmt: skip


def _decision(action: ModerationAction) -> dict[str, Any]:
    return {
        "kind": action.kind, "summary": action.summary, "reason": action.reason,
        "community": action.community.slug if action.community else None, "topic_id": action.topic_id_ref,
        "post_id": action.post_id_ref, "decided_at": action.created_at,
    }  # fmt: skip


def _handles(member: Member) -> set[str]:
    """The member's @handles here: their names in this tenant and on the platform, without spaces."""
    names = {member.display_name}
    schema = connection.schema_name  # type: ignore[attr-defined]
    names.update(
        TenantMembership.objects.filter(member_id=member.pk, tenant__schema_name=schema).values_list(
            "display_name", flat=True
        )
    )
    handles = {handle_of(name) for name in names if name}
    return {handle for handle in handles if len(handle) >= 2}


def _quote_source(quoted: Post) -> str:
    return quote_markdown(author_name=FORMER_MEMBER, body_markdown=quoted.body_markdown)


def erase_member_data(member: Member, keep_posts: bool) -> None:
    now = timezone.now()
    # Reactions: take each back, counters with it.
    for reaction in Reaction.objects.filter(member_id=member.pk).select_related("post"):
        counter = REACTION_COUNTERS[reaction.kind]  # type: ignore[index]
        Post.objects.filter(pk=reaction.post_id, **{f"{counter}__gt": 0}).update(**{counter: F(counter) - 1})
        Topic.objects.filter(pk=reaction.post.topic_id, reaction_count__gt=0).update(
            reaction_count=F("reaction_count") - 1
        )
    Reaction.objects.filter(member_id=member.pk).delete()
    TopicSubscription.objects.filter(member_id=member.pk).delete()
    CommunitySubscription.objects.filter(member_id=member.pk).delete()
    CommunityMembership.objects.filter(member_id=member.pk).delete()
    Notification.objects.filter(recipient_id=member.pk).delete()
    Notification.objects.filter(actor_id=member.pk).update(actor=None)
    Tag.objects.filter(proposed_by_id=member.pk).update(proposed_by=None)
    # The moderation log keeps every decision; only the references to the member go.
    ModerationAction.objects.filter(actor_id=member.pk).update(actor=None)
    ModerationAction.objects.filter(subject_id=member.pk).update(subject=None)
    Post.objects.filter(deleted_by_id=member.pk).update(deleted_by=None)
    # Their reports keep counting (the decision they led to stands) without naming them or their words.
    Flag.objects.filter(member_id=member.pk).update(member=None, text="")
    ReviewItem.objects.filter(decided_by_id=member.pk).update(decided_by=None)
    WatchedWord.objects.filter(created_by_id=member.pk).update(created_by=None)
    OnCallModerator.objects.filter(member_id=member.pk).delete()
    MemberTrust.objects.filter(member_id=member.pk).delete()
    TopicRead.objects.filter(member_id=member.pk).delete()
    MemberRestriction.objects.filter(member_id=member.pk).delete()
    MemberRestriction.objects.filter(created_by_id=member.pk).update(created_by=None)
    MemberRestriction.objects.filter(lifted_by_id=member.pk).update(lifted_by=None)
    PostRevision.objects.filter(edited_by_id=member.pk).update(edited_by=None)

    own_post_ids = list(Post.objects.filter(author_id=member.pk).values_list("pk", flat=True))
    PostRevision.objects.filter(post_id__in=own_post_ids).delete()
    if keep_posts:
        Post.objects.filter(pk__in=own_post_ids).update(author=None)
        Topic.objects.filter(author_id=member.pk).update(author=None)
    else:
        Post.objects.filter(pk__in=own_post_ids).update(
            author=None, body_markdown=REMOVED_TEXT, body_html=REMOVED_HTML, edited_at=now
        )
        Topic.objects.filter(author_id=member.pk).update(author=None, title=REMOVED_TEXT)

    # Others' posts quoting the member: the attribution (and, when posts go, the quoted text) changes.
    for quoting in Post.objects.filter(quoted_post_id__in=own_post_ids).select_related("quoted_post"):
        assert quoting.quoted_post is not None
        quote = _quote_source(quoting.quoted_post)
        Post.objects.filter(pk=quoting.pk).update(body_html=render_markdown(f"{quote}\n\n{quoting.body_markdown}"))
        for revision in PostRevision.objects.filter(post_id=quoting.pk):
            PostRevision.objects.filter(pk=revision.pk).update(
                body_html=render_markdown(f"{quote}\n\n{revision.body_markdown}")
            )

    reindexed = set(own_post_ids)
    # @mentions of the member anywhere in this tenant.
    for handle in _handles(member):
        pattern = mention_of(handle)
        needle = Q(body_markdown__icontains=f"@{handle}") | Q(body_html__icontains=f"@{handle}")
        for model in (Post, PostRevision):
            for row in model.objects.filter(needle).only("pk", "body_markdown", "body_html"):
                model.objects.filter(pk=row.pk).update(
                    body_markdown=pattern.sub(FORMER_HANDLE, row.body_markdown),
                    body_html=pattern.sub(FORMER_HANDLE, row.body_html),
                )
                if model is Post:
                    reindexed.add(row.pk)
    # Search must not find the erased words (or the handle) from the next query on.
    refresh_search_vectors(
        topic_ids=Post.objects.filter(pk__in=reindexed, is_opening=True).values_list("topic_id", flat=True)
    )
    index_posts(post_ids=reindexed)


def register() -> None:
    register_personal_data(
        name="communities",
        models=[
            CommunityMembership, Tag, Topic, Post, PostRevision, Reaction, TopicSubscription,
            CommunitySubscription, Notification, ModerationAction, Flag, ReviewItem, WatchedWord,
            OnCallModerator, MemberTrust, TopicRead, MemberRestriction,
        ],
        export=export_member_data,
        erase=erase_member_data,
        schema="tenant",
    )  # fmt: skip
