"""Reactions, answers and watch levels."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from communities import notifications, safety, wording
from communities.models import (
    Community,
    CommunitySubscription,
    Post,
    Reaction,
    ReactionKind,
    Topic,
    TopicKind,
    TopicSubscription,
    WatchLevel,
)
from communities.permissions import is_author
from communities.services.guards import REACTION_COUNTERS, _require_participant, _require_reader, _require_signed_in
from core.errors import InvalidInput, NotAllowed
from members.models import Member
from tenants.models import Tenant


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
