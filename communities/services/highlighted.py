"""Answers from outside the forum (an expert Q&A session of the partner's pages)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from communities import notifications, safety
from communities.markdown import render_markdown
from communities.models import (
    Community,
    Post,
    Topic,
    TopicKind,
    TopicSubscription,
    WatchLevel,
)
from communities.permissions import can_post_highlighted_answer
from communities.search import index_posts, refresh_search_vectors
from communities.services.guards import TITLE_MAX, _clean_body, _clean_title, _require_signed_in
from core.errors import NotAllowed
from members.models import Member
from tenants.models import Tenant


def post_highlighted_answer(
    *,
    acting_member: Member,
    tenant: Tenant,
    community: Community,
    question_title: str,
    question_body: str,
    answer_body: str,
    topic: Topic | None = None,
    invited_expert: bool = False,
) -> Topic:
    """A moderator posts a question asked elsewhere (an expert session) with its answer: a question topic
    whose reply is marked as the answer, so the community shows it highlighted like any accepted answer.

    Called again with the topic it returned, it adds the new answer as a reply and marks that one. The
    texts are the platform's and the expert's (screened by no member's link rules); moderators never wait
    for pre-moderation, so both posts are published at once and followers are notified.

    ``invited_expert``: the caller (cms) vouches that ``acting_member`` is the session's named expert; they
    post without being a moderator, while they may read the community and are not silenced or suspended.
    """
    _require_signed_in(acting_member)
    if not can_post_highlighted_answer(
        member=acting_member, tenant=tenant, community=community, invited_expert=invited_expert
    ):
        raise NotAllowed("Only this community's moderators can do that.", code="not_moderator")
    safety.require_may_post(member=acting_member, tenant=tenant)
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
