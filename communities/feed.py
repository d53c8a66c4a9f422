"""The personalized home feed of a tenant.

Candidates (a signed-in member): topics active in the last ``WINDOW_DAYS`` days, at most
``CANDIDATE_CAP`` of them, newest activity first, that are

- in a community the member joined (active membership), or
- in a community about one of the member's conditions (``Community.conditions`` ∩ the member's
  conditions and their MeSH descendants), or
- followed by the member (topic watch level watching/tracking);

minus removed topics, held or hidden ones (selectors.visible_topics), topics and communities the
member muted, and anything they cannot read.

Score (higher first; ties broken by id, newest first)::

    score = recency + engagement + relevance
    recency    = 2 ** (-(hours since last activity) / 48)              # 1.0 now, 0.5 after 48 h
    engagement = log1p(replies) + 0.5 * log1p(reactions)
    relevance  = 1.0 if the community is about one of my conditions
               + 0.8 if I follow the topic
               + 0.6 if it is an unanswered question (no replies) in a community I joined

Anonymous visitors get the open communities' topics scored by recency + engagement (latest and most
helpful).

Cursor: base64 of ``[score, id, reference time]``. The reference time of the first page is reused
for every later page, so scores don't drift between requests and the keyset (score desc, id desc)
never repeats or skips a topic, even when scores tie. (A topic that gets new activity between two page
requests changes score and may move; that is the price of a live ranking, and the next refresh shows it.)
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from django.db.models import Exists, OuterRef, Q, Value
from django.utils import timezone

from communities.models import (
    Community,
    CommunitySubscription,
    ContentStatus,
    Topic,
    TopicKind,
    TopicSubscription,
    Visibility,
    WatchLevel,
)
from communities.selectors import active_community_ids, public_tags, readable_communities, visible_topics
from conditions.selectors import descendant_ids
from core.errors import InvalidInput
from members.models import Member
from tenants.models import Tenant

WINDOW_DAYS = 60
CANDIDATE_CAP = 500
HALF_LIFE_HOURS = 48.0
CONDITION_BONUS = 1.0
FOLLOWED_BONUS = 0.8
UNANSWERED_BONUS = 0.6
SCORE_DIGITS = 9  # scores are rounded so the cursor's float compares exactly


class ScoredFields(Protocol):
    """What the score reads: a Topic or a light candidate row of the same field names."""

    @property
    def pk(self) -> int: ...
    @property
    def last_activity_at(self) -> datetime.datetime: ...
    @property
    def reply_count(self) -> int: ...
    @property
    def reaction_count(self) -> int: ...


class Candidate(NamedTuple):
    """A candidate topic as one narrow row: scoring 500 of these costs a fraction of 500 model
    instances with their author and community joined; only the page's topics are loaded whole."""

    pk: int
    community_id: int
    kind: str
    last_activity_at: datetime.datetime
    reply_count: int
    reaction_count: int
    is_followed: bool


CANDIDATE_FIELDS = ("pk", "community_id", "kind", "last_activity_at", "reply_count", "reaction_count")


@dataclass(frozen=True)
class FeedItem:
    topic: Topic
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None


def score_topic(
    *,
    topic: ScoredFields,
    now: datetime.datetime,
    condition_match: bool = False,
    followed: bool = False,
    unanswered_in_mine: bool = False,
) -> float:
    hours = max(0.0, (now - topic.last_activity_at).total_seconds() / 3600)
    recency = 2 ** (-hours / HALF_LIFE_HOURS)
    engagement = math.log1p(topic.reply_count) + 0.5 * math.log1p(topic.reaction_count)
    relevance = (
        (CONDITION_BONUS if condition_match else 0.0)
        + (FOLLOWED_BONUS if followed else 0.0)
        + (UNANSWERED_BONUS if unanswered_in_mine else 0.0)
    )
    return round(recency + engagement + relevance, SCORE_DIGITS)


def _encode_cursor(score: float, pk: int, now: datetime.datetime) -> str:
    raw = json.dumps([score, pk, now.timestamp()])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[float, int, datetime.datetime] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        score, pk, stamp = json.loads(raw)
        decoded = float(score), int(pk), datetime.datetime.fromtimestamp(float(stamp), tz=datetime.UTC)
        if abs(timezone.now() - decoded[2]) > datetime.timedelta(days=WINDOW_DAYS):
            raise ValueError("a cursor from outside the feed's window")
        return decoded
    except (ValueError, TypeError, OverflowError, OSError, binascii.Error, UnicodeDecodeError):
        # Silently restarting at the first page would show a client the same topics twice.
        raise InvalidInput(
            "The cursor is not valid: use next_cursor from the previous page, or none for the first page.",
            details={"cursor": ["Not a cursor of this list."]},
        ) from None


def _paginate(
    scored: Iterable[tuple[float, int, tuple[str, ...]]],
    *,
    position: tuple[float, int] | None,
    now: datetime.datetime,
    limit: int,
) -> FeedPage:
    """``scored`` holds (score, topic id, reasons); only the page's topics are fetched whole."""
    ordered = sorted(scored, key=lambda entry: (-entry[0], -entry[1]))
    if position is not None:
        after_score, after_pk = position
        ordered = [
            entry for entry in ordered if entry[0] < after_score or (entry[0] == after_score and entry[1] < after_pk)
        ]
    page = ordered[:limit]
    # One query for the page's topics with their author and community, one for their tags.
    topics = (
        Topic.objects.select_related("author", "community")
        .prefetch_related(public_tags())
        .in_bulk([pk for _, pk, _ in page])
    )
    items = [FeedItem(topic=topics[pk], score=score, reasons=reasons) for score, pk, reasons in page if pk in topics]
    next_cursor = _encode_cursor(page[-1][0], page[-1][1], now) if len(ordered) > limit and page else None
    return FeedPage(items=items, next_cursor=next_cursor)


def _condition_community_ids(*, member: Member) -> set[int]:
    mine = descendant_ids(condition_ids=member.conditions.values_list("pk", flat=True))
    if not mine:
        return set()
    return set(
        Community.conditions.through.objects.filter(condition_id__in=mine).values_list("community_id", flat=True)
    )


def feed_for(*, member: Member, tenant: Tenant, cursor: str | None = None, limit: int = 20) -> FeedPage:
    """A signed-in member's feed (see the module docstring for candidates and score)."""
    if not member.is_authenticated:
        return anonymous_feed(tenant=tenant, cursor=cursor, limit=limit)
    decoded = _decode_cursor(cursor)
    now = decoded[2] if decoded else timezone.now()
    joined = active_community_ids(member=member)
    by_condition = _condition_community_ids(member=member)
    # Follows and mutes stay subqueries: a member who follows thousands of topics must not turn
    # the candidate query into a statement with thousands of literals.
    subscriptions = TopicSubscription.objects.filter(member_id=member.pk)
    followed = subscriptions.filter(level__in=(WatchLevel.WATCHING, WatchLevel.TRACKING))
    muted_topics = subscriptions.filter(level=WatchLevel.MUTED)
    muted_communities = CommunitySubscription.objects.filter(member_id=member.pk, level=WatchLevel.MUTED)
    relevant = Q(community_id__in=joined | by_condition) | Q(pk__in=followed.values("topic_id"))
    candidates = (
        visible_topics(member=member, tenant=tenant)
        .filter(
            relevant,
            deleted_at__isnull=True,
            last_activity_at__gte=now - datetime.timedelta(days=WINDOW_DAYS),
            community__in=readable_communities(member=member, tenant=tenant),
        )
        .exclude(community_id__in=muted_communities.values("community_id"))
        .exclude(pk__in=muted_topics.values("topic_id"))
        .annotate(is_followed=Exists(followed.filter(topic_id=OuterRef("pk"))))
        .order_by("-last_activity_at", "-id")
        .values_list(*CANDIDATE_FIELDS, "is_followed")[:CANDIDATE_CAP]
    )
    scored = []
    for row in candidates:
        candidate = Candidate(*row)
        condition_match = candidate.community_id in by_condition
        in_joined = candidate.community_id in joined
        unanswered = candidate.kind == TopicKind.QUESTION and candidate.reply_count == 0 and in_joined
        reasons = tuple(
            reason
            for reason, applies in (
                ("condition", condition_match),
                ("followed", candidate.is_followed),
                ("unanswered", unanswered),
                ("joined", in_joined),
            )
            if applies
        )
        score = score_topic(
            topic=candidate,
            now=now,
            condition_match=condition_match,
            followed=candidate.is_followed,
            unanswered_in_mine=unanswered,
        )
        scored.append((score, candidate.pk, reasons))
    return _paginate(scored, position=decoded[:2] if decoded else None, now=now, limit=limit)


def anonymous_feed(*, tenant: Tenant, cursor: str | None = None, limit: int = 20) -> FeedPage:
    """Open communities only: the latest and most helpful topics (recency + engagement)."""
    decoded = _decode_cursor(cursor)
    now = decoded[2] if decoded else timezone.now()
    candidates = (
        Topic.objects.filter(
            deleted_at__isnull=True,
            status=ContentStatus.PUBLISHED,
            community__visibility=Visibility.OPEN,
            last_activity_at__gte=now - datetime.timedelta(days=WINDOW_DAYS),
        )
        .order_by("-last_activity_at", "-id")
        .values_list(*CANDIDATE_FIELDS, Value(False))[:CANDIDATE_CAP]
    )
    scored = []
    for row in candidates:
        candidate = Candidate(*row)
        scored.append((score_topic(topic=candidate, now=now), candidate.pk, ()))
    return _paginate(scored, position=decoded[:2] if decoded else None, now=now, limit=limit)
