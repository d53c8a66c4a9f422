"""Reads for communities (tenant schema).

The rules they apply live in communities.permissions; the ``access_*`` readers fail with NotFound
(a 404) alike for missing and forbidden rows, so ids and slugs reveal nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, TrigramSimilarity
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncMonth
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from wagtail.models import Page as WagtailPage

from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    CommunitySubscription,
    ContentStatus,
    CrisisTerm,
    MemberRestriction,
    MemberTrust,
    ModerationAction,
    ModerationActionKind,
    ModerationSettings,
    Notification,
    NotificationKind,
    OnCallModerator,
    Post,
    PostRevision,
    Reaction,
    ReviewItem,
    ReviewStatus,
    SearchSynonym,
    SearchTerm,
    Tag,
    TagStatus,
    Topic,
    TopicKind,
    TopicSubscription,
    Visibility,
    WatchedWord,
    WatchLevel,
)
from communities.permissions import can_moderate, can_read_community, can_see_content, is_active_community_member
from communities.search import (
    HEADLINE_FRAGMENTS,
    HEADLINE_MAX_WORDS,
    HEADLINE_MIN_WORDS,
    MARK_START,
    MARK_STOP,
    SEARCH_CONFIG,
    SORT_NEWEST,
    STATUS_ANSWERED,
    STATUS_UNANSWERED,
    ParsedQuery,
    SearchFilters,
    SearchRequest,
    parse_query,
    render_snippet,
)
from communities.wording import REMOVED_HTML
from conditions.selectors import descendant_ids, search_conditions, synonym_groups
from core.errors import InvalidInput
from members.models import Member, MembershipRole, TenantMembership
from members.selectors import attach_display_names, can_administer_tenant, membership_of
from tenants.models import Tenant

# ---------------------------------------------------------------------------------------------
# Readable communities
# ---------------------------------------------------------------------------------------------


def readable_communities(*, member: Member, tenant: Tenant) -> QuerySet[Community]:
    """Every community whose content this member may read, as one query."""
    communities = Community.objects.all()
    if member.is_authenticated and member.is_active and can_moderate(member=member, tenant=tenant):
        return communities
    if not member.is_authenticated:
        return communities.filter(visibility=Visibility.OPEN)
    joined = CommunityMembership.objects.filter(
        community_id=OuterRef("pk"), member_id=member.pk, status=CommunityMembershipStatus.ACTIVE
    )
    return communities.filter(Q(visibility=Visibility.OPEN) | Q(Exists(joined)))


def active_community_ids(*, member: Member) -> set[int]:
    if not member.is_authenticated:
        return set()
    return set(
        CommunityMembership.objects.filter(member_id=member.pk, status=CommunityMembershipStatus.ACTIVE).values_list(
            "community_id", flat=True
        )
    )


# ---------------------------------------------------------------------------------------------
# Who sees held and hidden content: the one rule every reader uses
# ---------------------------------------------------------------------------------------------


def content_visibility(*, member: Member, tenant: Tenant, prefix: str = "", is_moderator: bool | None = None) -> Q:
    """A filter on anything with ``status`` and ``author`` (a Post, a Topic, or a relation to one
    through ``prefix``, e.g. ``"post__"``): published content for everyone; held (pre-moderation)
    and hidden (flagged, or hidden by a moderator) content for its author and this tenant's
    moderators only. Web pages, the API, the feed, search and notifications all filter with it, and
    so should any new reader (search is being rewritten: call this, don't copy it)."""
    if is_moderator is None:
        is_moderator = member.is_authenticated and member.is_active and can_moderate(member=member, tenant=tenant)
    if is_moderator:
        return Q()
    published = Q(**{f"{prefix}status": ContentStatus.PUBLISHED})
    if member.is_authenticated and member.is_active:
        return published | Q(**{f"{prefix}author_id": member.pk})
    return published


def visible_posts(*, member: Member, tenant: Tenant, posts: QuerySet[Post] | None = None) -> QuerySet[Post]:
    """``posts`` (default: all) narrowed to what this member may see (see content_visibility)."""
    posts = Post.objects.all() if posts is None else posts
    return posts.filter(content_visibility(member=member, tenant=tenant))


def visible_topics(*, member: Member, tenant: Tenant, topics: QuerySet[Topic] | None = None) -> QuerySet[Topic]:
    """``topics`` (default: all) narrowed by their opening post's status (Topic.status mirrors it)."""
    topics = Topic.objects.all() if topics is None else topics
    return topics.filter(content_visibility(member=member, tenant=tenant))


def visible_notifications(member: Member) -> QuerySet[Notification]:
    """A member's notifications, minus those about posts others can't see right now (held or hidden):
    they reappear if a moderator approves the post. Moderation notices always show."""
    return Notification.objects.filter(recipient_id=member.pk).filter(
        Q(post__isnull=True) | Q(post__status=ContentStatus.PUBLISHED) | Q(kind=NotificationKind.MODERATION)
    )


# Where public_tags() leaves a topic's curated tags: a plain list, not a prefetched manager (a
# manager per topic costs a queryset clone each, the largest part of listing 30 topics).
SHOWN_TAGS = "shown_tags"


def public_tags() -> Prefetch[Any]:
    """Prefetch of the tags a topic shows: curated ones only. A member's proposed tag stays with the
    moderators until they curate it (or merge it into one that is). Read them with ``shown_tags``."""
    return Prefetch("tags", queryset=Tag.objects.filter(status=TagStatus.CURATED), to_attr=SHOWN_TAGS)


def shown_tags(topic: Topic) -> list[Tag]:
    """The curated tags ``topic`` shows: the prefetched list, else one query."""
    prefetched = topic.__dict__.get(SHOWN_TAGS)
    if prefetched is None:
        prefetched = list(topic.tags.filter(status=TagStatus.CURATED))
        setattr(topic, SHOWN_TAGS, prefetched)
    return list(prefetched)


# ---------------------------------------------------------------------------------------------
# Communities
# ---------------------------------------------------------------------------------------------


def visible_communities(*, member: Member, tenant: Tenant) -> QuerySet[Community]:
    """Communities listed to this member: open ones for everyone; members-only ones for people who
    joined this tenant (they can see that it exists and ask to join, not read its topics)."""
    communities = Community.objects.order_by("name")
    if membership_of(member=member, tenant=tenant) is None and not (member.is_authenticated and member.is_superuser):
        communities = communities.filter(visibility=Visibility.OPEN)
    return communities


def find_communities(*, member: Member, tenant: Tenant, query: str) -> list[Community]:
    """Narrow this tenant's visible communities the way the platform directory searches: by condition
    name, synonym or MeSH code (with narrower conditions), or by words of the name and description."""
    query = query.strip()[:100]
    communities = visible_communities(member=member, tenant=tenant)
    if not query:
        return list(communities)
    condition_ids = descendant_ids(condition_ids=[c.pk for c in search_conditions(query=query, limit=10)])
    by_condition = Q(conditions__in=condition_ids) if condition_ids else Q(pk__in=[])
    # Short queries ("MS") would match inside any word: for them only conditions count.
    by_text = Q(name__icontains=query) | Q(description__icontains=query) if len(query) > 3 else Q(pk__in=[])
    return list(communities.filter(by_condition | by_text).distinct().order_by("name"))


def access_community(*, member: Member, tenant: Tenant, slug: str) -> Community:
    """The community if this member may see it listed; 404 alike for missing and forbidden."""
    community = visible_communities(member=member, tenant=tenant).filter(slug=slug).first()
    if community is None:
        raise Http404("No such community.")
    return community


# ---------------------------------------------------------------------------------------------
# Topics
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicPage:
    items: list[Topic]
    next_cursor: str | None


def _encode_activity_cursor(topic: Topic) -> str:
    raw = f"{topic.last_activity_at.isoformat()}|{topic.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_activity_cursor(cursor: str) -> tuple[datetime.datetime, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        return datetime.datetime.fromisoformat(stamp), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        # Silently restarting at the first page would show a client the same topics twice.
        raise InvalidInput(
            "The cursor is not valid: use next_cursor from the previous page, or none for the first page.",
            details={"cursor": ["Not a cursor of this list."]},
        ) from None


def community_topics(
    *,
    member: Member,
    tenant: Tenant,
    community: Community,
    kind: str | None = None,
    tag_slug: str | None = None,
    cursor: str | None = None,
    limit: int = 30,
) -> TopicPage:
    """Topics of one community, newest activity first, keyset-paginated on (last_activity_at, id).

    Three queries whatever the page size: permission check, topics with authors, their tags.
    """
    if not can_read_community(member=member, tenant=tenant, community=community):
        raise Http404("No such community.")
    topics = visible_topics(
        member=member, tenant=tenant, topics=Topic.objects.filter(community_id=community.pk, deleted_at__isnull=True)
    )
    if kind:
        topics = topics.filter(kind=kind)
    if tag_slug:
        topics = topics.filter(
            Exists(
                Tag.topics.through.objects.filter(
                    topic_id=OuterRef("pk"), tag__slug=tag_slug, tag__status=TagStatus.CURATED
                )
            )
        )
    position = _decode_activity_cursor(cursor) if cursor else None
    if position is not None:
        stamp, pk = position
        topics = topics.filter(Q(last_activity_at__lt=stamp) | Q(last_activity_at=stamp, id__lt=pk))
    rows = list(
        topics.select_related("author")
        .prefetch_related(public_tags())
        .order_by("-last_activity_at", "-id")[: limit + 1]
    )
    items = rows[:limit]
    next_cursor = _encode_activity_cursor(items[-1]) if len(rows) > limit and items else None
    return TopicPage(items=items, next_cursor=next_cursor)


def access_topic(*, member: Member, tenant: Tenant, topic_id: int) -> Topic:
    """The topic if this member may read it; 404 alike for missing, deleted and forbidden."""
    topic = Topic.objects.select_related("community", "author").filter(pk=topic_id, deleted_at__isnull=True).first()
    if topic is None or not can_read_community(member=member, tenant=tenant, community=topic.community):
        raise Http404("No such topic.")
    if not can_see_content(member=member, tenant=tenant, status=topic.status, author_id=topic.author_id):
        raise Http404("No such topic.")
    return topic


@dataclass(frozen=True)
class PostView:
    """A post as one viewer sees it: removed posts show "[removed]" except to moderators."""

    post: Post
    body_html: str
    is_removed: bool
    is_answer: bool
    my_reactions: frozenset[str] = field(default_factory=frozenset)
    # For the author of a post that looks like a crisis: the tenant's crisis resources.
    crisis_resources: tuple[str, ...] = ()


def topic_posts(*, member: Member, tenant: Tenant, topic: Topic, limit: int = 500) -> list[PostView]:
    """The thread in order. A bounded number of queries (posts with authors, the viewer's reactions,
    one permission check), independent of the number of replies."""
    if not can_read_community(member=member, tenant=tenant, community=topic.community):
        raise Http404("No such topic.")
    is_moderator = member.is_authenticated and can_moderate(member=member, tenant=tenant)
    posts_here = Post.objects.filter(
        content_visibility(member=member, tenant=tenant, is_moderator=is_moderator), topic_id=topic.pk
    )
    if member.is_authenticated:
        # Which of the viewer's own posts look like a crisis (in the same query, not one more).
        posts_here = posts_here.annotate(
            in_crisis=Exists(
                ReviewItem.objects.filter(
                    post_id=OuterRef("pk"), post__author_id=member.pk, status=ReviewStatus.OPEN, risk__gt=0
                )
            )
        )
    posts = list(posts_here.select_related("author").order_by("created_at", "id")[:limit])
    mine: dict[int, set[str]] = {}
    if member.is_authenticated and posts:
        for post_id, kind in Reaction.objects.filter(member_id=member.pk, post__topic_id=topic.pk).values_list(
            "post_id", "kind"
        ):
            mine.setdefault(post_id, set()).add(kind)
    in_crisis = {post.pk for post in posts if getattr(post, "in_crisis", False)}
    resources = crisis_resources() if in_crisis else ()
    views = []
    for post in posts:
        removed = post.deleted_at is not None
        views.append(
            PostView(
                post=post,
                body_html=post.body_html if (not removed or is_moderator) else REMOVED_HTML,
                is_removed=removed,
                is_answer=topic.answer_id == post.pk,
                my_reactions=frozenset(mine.get(post.pk, ())),
                crisis_resources=resources if post.pk in in_crisis else (),
            )
        )
    return views


def search_topics(
    *,
    member: Member,
    tenant: Tenant,
    query: str,
    kind: str | None = None,
    tag_kind: str | None = None,
    limit: int = 30,
) -> list[Topic]:
    """Topics of readable communities matching ``query`` in their title, tags or opening post
    (full-text, English stemming, web-search syntax; see communities/search.py), best match first,
    then most recently active. With ``tag_kind`` ("symptom", "treatment"...) only the names of tags
    of that kind are matched (substring, case-insensitive)."""
    query = query.strip()
    if not query:
        return []
    if tag_kind:
        tag_links = Tag.topics.through.objects.filter(
            topic_id=OuterRef("pk"), tag__kind=tag_kind, tag__name__icontains=query, tag__status=TagStatus.CURATED
        )
        topics = Topic.objects.filter(Exists(tag_links)).annotate(rank=Value(0.0, output_field=FloatField()))
    else:
        search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
        topics = Topic.objects.filter(search_vector=search_query).annotate(
            rank=SearchRank(F("search_vector"), search_query)
        )
    topics = topics.filter(
        content_visibility(member=member, tenant=tenant),
        deleted_at__isnull=True,
        community__in=readable_communities(member=member, tenant=tenant),
    )
    if kind:
        topics = topics.filter(kind=kind)
    return list(
        topics.select_related("author", "community")
        .prefetch_related(public_tags())
        .order_by("-rank", "-last_activity_at", "-id")[:limit]
    )


# ---------------------------------------------------------------------------------------------
# Lookups for pages and the API (access_*: 404 alike for missing and forbidden)
# ---------------------------------------------------------------------------------------------


def access_readable_community(*, member: Member, tenant: Tenant, slug: str) -> Community:
    """A community listed to this member whose content they may also read."""
    community = access_community(member=member, tenant=tenant, slug=slug)
    if not can_read_community(member=member, tenant=tenant, community=community):
        raise Http404("No such community.")
    return community


def access_post(*, member: Member, tenant: Tenant, topic: Topic, post_id: int) -> Post:
    """A post of a topic the member may already read (access_topic checked it), if they may see the
    post itself (held and hidden posts: their author and moderators only)."""
    post = Post.objects.select_related("topic__community", "author").filter(pk=post_id, topic_id=topic.pk).first()
    if post is None or not can_see_content(member=member, tenant=tenant, status=post.status, author_id=post.author_id):
        raise Http404("No such post.")
    return post


def access_post_by_id(*, member: Member, tenant: Tenant, post_id: int) -> Post:
    """A post of a topic the member may read, by its id alone (the post itself may be removed)."""
    topic_id = Post.objects.filter(pk=post_id).values_list("topic_id", flat=True).first()
    if topic_id is None:
        raise Http404("No such post.")
    topic = access_topic(member=member, tenant=tenant, topic_id=topic_id)
    post = Post.objects.select_related("author", "quoted_post__author").get(pk=post_id)
    if not can_see_content(member=member, tenant=tenant, status=post.status, author_id=post.author_id):
        raise Http404("No such post.")
    post.topic = topic
    return post


def post_of_topic(*, topic: Topic, post_id: int) -> Post | None:
    """A post to quote or mark as the answer: looked up in this topic only, so another topic's post
    can't be revealed through it (the services refuse removed ones)."""
    return Post.objects.select_related("author").filter(pk=post_id, topic_id=topic.pk).first()


def is_in_crisis(*, post: Post) -> bool:
    return ReviewItem.objects.filter(post_id=post.pk, status=ReviewStatus.OPEN, risk__gt=0).exists()


def access_tag(*, member: Member, tenant: Tenant, tag_id: int) -> Tag:
    tag = Tag.objects.select_related("community").filter(pk=tag_id).first()
    if tag is None or not can_read_community(member=member, tenant=tenant, community=tag.community):
        raise Http404("No such tag.")
    return tag


def tag_of_community(*, community_id: int, tag_id: int) -> Tag | None:
    return Tag.objects.filter(pk=tag_id, community_id=community_id).first()


def community_tags(*, member: Member, tenant: Tenant, community: Community) -> QuerySet[Tag]:
    """Curated tags; moderators also see proposed ones, members the ones they proposed themselves."""
    tags = Tag.objects.filter(community=community).exclude(status=TagStatus.MERGED).order_by("kind", "name")
    if not can_moderate(member=member, tenant=tenant):
        member_id = member.pk if member.is_authenticated else None
        tags = tags.filter(Q(status=TagStatus.CURATED) | Q(proposed_by_id=member_id))
    return tags


def curated_tags(*, community: Community) -> QuerySet[Tag]:
    return community.tags.filter(status=TagStatus.CURATED)


def searchable_tags(*, member: Member, tenant: Tenant, communities: Sequence[Community]) -> QuerySet[Tag]:
    """The curated tags of those ``communities`` this member may read (the search page's filters)."""
    return Tag.objects.filter(
        community_id__in=[c.pk for c in communities if can_read_community(member=member, tenant=tenant, community=c)],
        status=TagStatus.CURATED,
    ).order_by("kind", "name")


def pending_join_requests(*, community: Community | None = None) -> QuerySet[CommunityMembership]:
    rows = CommunityMembership.objects.filter(status=CommunityMembershipStatus.PENDING)
    if community is not None:
        rows = rows.filter(community=community)
    return rows.select_related("community", "member").order_by("joined_at", "pk")


def join_request(*, community: Community, request_id: int) -> CommunityMembership | None:
    """A join request (any status: the service refuses decided ones) of a community in hand."""
    return CommunityMembership.objects.filter(pk=request_id, community=community).first()


def access_join_request(*, community: Community, request_id: int) -> CommunityMembership:
    membership = join_request(community=community, request_id=request_id)
    if membership is None:
        raise Http404("No such request.")
    return membership


def community_membership_of(*, member: Member, community: Community) -> CommunityMembership | None:
    """The viewer's own membership row: it decides which buttons to show, never what may be read."""
    if not member.is_authenticated:
        return None
    return CommunityMembership.objects.filter(community=community, member_id=member.pk).first()


def community_watch_level(*, member: Member, community: Community) -> str | None:
    if not member.is_authenticated:
        return None
    return (
        CommunitySubscription.objects.filter(community=community, member_id=member.pk)
        .values_list("level", flat=True)
        .first()
    )


def joined_communities(*, member: Member) -> list[Community]:
    joined = active_community_ids(member=member)
    return list(Community.objects.filter(pk__in=joined).order_by("name")) if joined else []


@dataclass(frozen=True)
class TopicPageView:
    """What a topic page shows one viewer, besides the posts (topic_posts)."""

    is_moderator: bool
    is_participant: bool
    watch_level: str | None
    # Edit history is for moderators only (one query for the whole thread, grouped by post).
    revisions: dict[int, list[PostRevision]]
    tags: list[Tag]


def access_topic_page(*, member: Member, tenant: Tenant, topic: Topic) -> TopicPageView:
    """The viewer's standing on a topic page of a topic they may read (access_topic checked it)."""
    is_moderator = member.is_authenticated and can_moderate(member=member, tenant=tenant)
    watch_level = (
        TopicSubscription.objects.filter(topic=topic, member_id=member.pk).values_list("level", flat=True).first()
        if member.is_authenticated
        else None
    )
    revisions: dict[int, list[PostRevision]] = {}
    if is_moderator:
        for revision in PostRevision.objects.filter(post__topic_id=topic.pk).order_by("post_id", "-replaced_at"):
            revisions.setdefault(revision.post_id, []).append(revision)
    return TopicPageView(
        is_moderator=is_moderator,
        is_participant=is_active_community_member(member=member, community=topic.community),
        watch_level=watch_level,
        revisions=revisions,
        tags=shown_tags(topic),
    )


def resource_library_page() -> WagtailPage | None:
    """The partner's Wagtail resource library (cms.ResourceIndexPage), read by content type:
    communities never imports cms."""
    return (
        WagtailPage.objects.live()
        .public()
        .filter(content_type__app_label="cms", content_type__model="resourceindexpage")
        .order_by("path")
        .first()
    )


def resource_pages(*, limit: int) -> list[WagtailPage]:
    pages = (
        WagtailPage.objects.live()
        .public()
        .filter(content_type__app_label="cms", content_type__model="resourcepage")
        .specific()
        .order_by("title")
    )
    return list(pages[:limit])


# ---------------------------------------------------------------------------------------------
# Search over every post (communities/search.py: index, query language, snippets)
# ---------------------------------------------------------------------------------------------

SEARCH_PAGE_SIZE = 10
# Relevance is decided among the newest matching posts, at most this many (up to 200 topics, 20 pages;
# the page says when more matched): a common word would otherwise make each query read and rank
# hundreds of thousands of rows. Reading costs grow with this number (bench/search.py: p95 halved
# from 500 to 200 at 1,000,000 posts).
SEARCH_CANDIDATES = 200
SEARCH_ENOUGH = 100
SEARCH_ENOUGH_SPAN = 200_000
POSTS_PER_TOPIC = 3
RECENCY_SCALE_DAYS = 365.0
SUGGEST_BELOW = 3
SUGGEST_SIMILARITY = 0.4
RELAX_SCAN = 300


def _searchable_communities(*, member: Member, tenant: Tenant) -> QuerySet[Community]:
    """Communities whose posts a search may show this member: readable, and not muted by them."""
    communities = readable_communities(member=member, tenant=tenant)
    if member.is_authenticated:
        muted = CommunitySubscription.objects.filter(member_id=member.pk, level=WatchLevel.MUTED)
        communities = communities.exclude(pk__in=muted.values("community_id"))
    return communities


def searchable_community_ids(*, member: Member, tenant: Tenant) -> list[int]:
    return sorted(_searchable_communities(member=member, tenant=tenant).values_list("pk", flat=True))


def searchable_posts(*, member: Member, tenant: Tenant, community_ids: list[int] | None = None) -> QuerySet[Post]:
    """THE visibility rule of search: the posts a search may show this member, and no other.

    Not removed; published, or held or hidden but the member's own (moderators see all), in a topic
    that is so too (content_visibility); in a live topic the member did not mute; in a community they
    may read and did not mute. Everything search shows (results, counts, "remove this filter" hints,
    and the vocabulary of "did you mean" through the same communities) starts here. Other partners'
    posts live in other schemas and are never reachable from this one. ``community_ids``: the result
    of searchable_community_ids for this member, when the caller already has it.
    """
    is_moderator = member.is_authenticated and member.is_active and can_moderate(member=member, tenant=tenant)
    posts = Post.objects.filter(
        content_visibility(member=member, tenant=tenant, is_moderator=is_moderator),
        content_visibility(member=member, tenant=tenant, prefix="topic__", is_moderator=is_moderator),
        deleted_at__isnull=True,
        topic__deleted_at__isnull=True,
        # The post's own copy of its community (kept by the services when a topic moves), as a list: with
        # a subquery the planner loops over the communities and runs the text index once per community.
        community_id__in=(
            searchable_community_ids(member=member, tenant=tenant) if community_ids is None else community_ids
        ),
    )
    if member.is_authenticated:
        muted_topics = TopicSubscription.objects.filter(member_id=member.pk, level=WatchLevel.MUTED)
        posts = posts.exclude(topic_id__in=muted_topics.values("topic_id"))
    return posts


def search_synonyms(phrases: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """What else each phrase means: the condition taxonomy plus this partner's own synonym list."""
    groups = dict(synonym_groups(phrases=phrases))
    wanted = {phrase.lower() for phrase in phrases}
    if wanted:
        own_sql = "EXISTS (SELECT 1 FROM unnest(terms) AS term WHERE lower(term) = ANY(%s))"
        own = (
            SearchSynonym.objects.alias(hit=RawSQL(own_sql, [sorted(wanted)], output_field=BooleanField()))  # noqa: S611
            .filter(hit=True)
            .values_list("terms", flat=True)
        )
        for terms in own:
            for term in terms:
                key = term.lower()
                if key in wanted:
                    groups[key] = tuple(dict.fromkeys([*groups.get(key, ()), *terms]))
    return groups


@dataclass
class PostHit:
    post: Post  # with ``author_name`` set for this tenant and ``author_local_id`` (its id here, or "")
    snippet: SafeString
    rank: float


@dataclass
class TopicHit:
    topic: Topic
    score: float
    match_count: int
    posts: list[PostHit]


@dataclass
class SearchResult:
    request: SearchRequest
    parsed: ParsedQuery
    topics: list[TopicHit] = field(default_factory=list)
    total_topics: int = 0
    capped: bool = False  # more posts matched than were ranked (SEARCH_CANDIDATES)
    has_next: bool = False
    suggestion: str = ""
    relaxations: list[tuple[str, int]] = field(default_factory=list)  # (filter name, topics without it)
    message: str = ""


def _filtered(posts: QuerySet[Post], filters: SearchFilters, readable: Sequence[int] | None = None) -> QuerySet[Post]:
    """``posts`` narrowed by the filters; ``readable``: the searchable community ids, when known (a
    community filter outside them then finds nothing without asking the database)."""
    if filters.community:
        # The id itself, not a subquery: the planner can then use what it knows of that community's posts
        # (a subquery's value is unknown when planning).
        community_ids = list(Community.objects.filter(slug=filters.community).values_list("pk", flat=True)[:1])
        if readable is not None:
            community_ids = [pk for pk in community_ids if pk in readable]
        posts = posts.filter(community_id__in=community_ids)
    if filters.kind:
        posts = posts.filter(topic_kind=filters.kind)  # the post's copy: no join while walking candidates
    for tag_kind, slug in filters.tags:
        # Curated tags only: a proposed tag is not public until a moderator approves it, so its slug
        # filters like an unknown one (nothing), never revealing or narrowing by it.
        tagged = Tag.topics.through.objects.filter(
            topic_id=OuterRef("topic_id"), tag__kind=tag_kind, tag__slug=slug, tag__status=TagStatus.CURATED
        )
        posts = posts.filter(Exists(tagged))
    if filters.status == STATUS_ANSWERED:
        posts = posts.filter(topic_kind=TopicKind.QUESTION, topic_answered=True)
    elif filters.status == STATUS_UNANSWERED:
        posts = posts.filter(topic_kind=TopicKind.QUESTION, topic_answered=False)
    if filters.after:
        posts = posts.filter(created_at__date__gte=filters.after)
    if filters.before:
        posts = posts.filter(created_at__date__lte=filters.before)
    if filters.author:
        # Who the tenant's id names (search_request_from looked it up); unresolved, it names no one.
        posts = posts.filter(author_id=filters.author_member_id) if filters.author_member_id else posts.none()
    return posts


def _topic_score(hits: list[tuple[int, datetime.datetime, float]], now: datetime.datetime) -> float:
    """Best post's rank, a little more for several matching posts, then a recency boost."""
    best = max(rank for _, _, rank in hits)
    newest = max(created for _, created, _ in hits)
    age_days = max(0.0, (now - newest).total_seconds() / 86_400)
    return best * (1 + 0.1 * min(len(hits) - 1, 5)) / (1 + age_days / RECENCY_SCALE_DAYS)


def _did_you_mean(*, parsed: ParsedQuery, community_ids: list[int]) -> str:
    """A query with each unknown word replaced by the nearest word of the readable vocabulary.

    One query per word (at most 6), served by the vocabulary's trigram GIN index through pg_trgm's
    ``%`` operator (a similarity filter on an annotation would read the whole table): the word
    itself, when known, comes first and means "no suggestion"."""
    replacements: dict[str, str] = {}
    if not community_ids:
        return ""
    for word in parsed.plain_words[:6]:
        lowered = word.lower()
        if len(lowered) < 4 or not lowered.isalpha():
            continue
        best = (
            SearchTerm.objects.filter(community_id__in=community_ids)
            .filter(RawSQL("communities_searchterm.word %% %s", [lowered], output_field=BooleanField()))
            .annotate(similarity=TrigramSimilarity("word", lowered))
            .values("word")
            .annotate(best=Max("similarity"), docs=Sum("ndoc"))
            .filter(best__gte=SUGGEST_SIMILARITY)
            .order_by(Func(F("word"), Value(lowered), function="", arg_joiner=" = ").desc(), "-best", "-docs", "word")
            .values_list("word", flat=True)
            .first()
        )
        if best and best != lowered:
            replacements[word] = best
    return parsed.replaced(replacements) if replacements else ""


def _candidates(
    posts: QuerySet[Post], search_query: SearchQuery
) -> tuple[list[tuple[int, int, datetime.datetime, float]], bool]:
    """The newest matching posts, at most SEARCH_CANDIDATES + 1, with their rank, and whether older
    matches were left out (at most SEARCH_CANDIDATES are ranked; with SEARCH_ENOUGH of them found in the
    newest SEARCH_ENOUGH_SPAN posts the search goes no further back).

    Newest first by id (ids follow posting order) with a LIMIT, so PostgreSQL picks by the words'
    statistics: for a common word it walks the primary key (or a filter's index: community, author)
    backwards and stops at the limit; for a rare one the GIN index yields the few matches. The span
    bounds the walk for words in between; older posts are searched only when the span holds too few
    matches, one span at a time, newest first, until SEARCH_ENOUGH are found (a single query over all
    older posts read every older match of correlated words such as "side effects": 100 ms → 7 ms a span).
    Every filter is a column of the post itself (no join decides what is read), and
    ts_rank runs on the returned rows only.
    """
    newest = Post.objects.aggregate(newest=Max("id"))["newest"] or 0
    lower = max(0, newest - SEARCH_ENOUGH_SPAN)

    def newest_matches(window: QuerySet[Post], limit: int) -> list[tuple[int, int, datetime.datetime, float]]:
        return list(
            window.filter(search_vector=search_query)
            .annotate(rank=SearchRank(F("search_vector"), search_query))
            .order_by("-id")
            .values_list("id", "topic_id", "created_at", "rank")[:limit]
        )

    rows = newest_matches(posts.filter(id__gt=lower), SEARCH_CANDIDATES + 1)
    # Older posts span by span, newest first: one query over every older post would read every older
    # match of words that occur together ("side effects"), which PostgreSQL estimates as independent.
    while lower and len(rows) < SEARCH_ENOUGH:
        upper, lower = lower, max(0, lower - SEARCH_ENOUGH_SPAN)
        rows += newest_matches(posts.filter(id__gt=lower, id__lte=upper), SEARCH_CANDIDATES + 1 - len(rows))
    if len(rows) > SEARCH_CANDIDATES:
        return rows, True
    # enough recent matches: older ones are left out, and the page says so
    return rows, bool(lower)


def search_posts(*, member: Member, tenant: Tenant, request: SearchRequest) -> SearchResult:
    """Topics with their best-matching posts (opening post or replies) and highlighted snippets.

    A bounded number of queries whatever the data: synonyms (2), the viewer's role and readable
    communities (2), the newest post id and the ranked candidates (2, plus one per older span searched,
    at most 5 on the bench forum; see _candidates), the page's topics and tags, one ts_headline query for
    the page's posts only (at most 3 per topic), display names; plus "did you mean" (one trigram-indexed
    query per word) and "remove a filter" (one bounded query per filter) only when few or no topics
    match. Nothing counts every match: the total is the
    number of topics among the ranked candidates, and ``capped`` says when there were more.
    """
    parsed = parse_query(request.query, synonyms=search_synonyms)
    result = SearchResult(request=request, parsed=parsed)
    if parsed.is_empty:
        if parsed.excluded:
            result.message = "Add a word to look for, not only words to leave out."
        elif request.query.strip():
            result.message = "Type a word to look for: operators and punctuation alone find nothing."
        return result
    search_query = parsed.to_search_query()
    assert search_query is not None
    community_ids = searchable_community_ids(member=member, tenant=tenant)
    visible = searchable_posts(member=member, tenant=tenant, community_ids=community_ids)
    rows, result.capped = _candidates(_filtered(visible, request.filters, community_ids), search_query)
    by_topic: dict[int, list[tuple[int, datetime.datetime, float]]] = {}
    for post_id, topic_id, created_at, rank in rows[:SEARCH_CANDIDATES]:
        by_topic.setdefault(topic_id, []).append((post_id, created_at, float(rank)))
    now = timezone.now()
    scores = {topic_id: _topic_score(hits, now) for topic_id, hits in by_topic.items()}
    if request.sort == SORT_NEWEST:
        order = sorted(by_topic, key=lambda t: (max(h[1] for h in by_topic[t]), t), reverse=True)
    else:
        order = sorted(by_topic, key=lambda t: (scores[t], t), reverse=True)
    result.total_topics = len(order)
    start = (request.page - 1) * SEARCH_PAGE_SIZE
    page_ids = order[start : start + SEARCH_PAGE_SIZE]
    result.has_next = len(order) > start + SEARCH_PAGE_SIZE

    if page_ids:
        topics = Topic.objects.select_related("community", "author").prefetch_related(public_tags()).in_bulk(page_ids)
        shown: dict[int, list[tuple[int, datetime.datetime, float]]] = {}
        for topic_id in page_ids:
            hits = by_topic[topic_id]
            key = (lambda h: (h[1], h[0])) if request.sort == SORT_NEWEST else (lambda h: (h[2], h[1]))
            shown[topic_id] = sorted(hits, key=key, reverse=True)[:POSTS_PER_TOPIC]
        post_ids = [post_id for hits in shown.values() for post_id, _, _ in hits]
        # A member could type the marker characters themselves: they are taken out before highlighting.
        body = Func(F("body_markdown"), Value(MARK_START + MARK_STOP), Value(""), function="translate")
        headline = SearchHeadline(
            body,
            search_query,
            config=SEARCH_CONFIG,
            start_sel=MARK_START,
            stop_sel=MARK_STOP,
            max_words=HEADLINE_MAX_WORDS,
            min_words=HEADLINE_MIN_WORDS,
            max_fragments=HEADLINE_FRAGMENTS,
            fragment_delimiter=" … ",
        )
        # The author's id on this tenant, in the same query: what the author filter takes ("" for a
        # former member or an erased author, who can't be filtered by).
        author_local_id = Subquery(
            TenantMembership.objects.filter(member_id=OuterRef("author_id"), tenant_id=tenant.pk).values("local_id")[:1]
        )
        posts = (
            Post.objects.filter(pk__in=post_ids)
            .only("id", "topic_id", "author_id", "is_opening", "created_at")
            .annotate(headline=headline, author_local_id=Coalesce(author_local_id, Value("")))
            .in_bulk()
        )
        attach_display_names([*posts.values(), *topics.values()], tenant=tenant)  # one query for both
        for topic_id in page_ids:
            result.topics.append(
                TopicHit(
                    topic=topics[topic_id],
                    score=scores[topic_id],
                    match_count=len(by_topic[topic_id]),
                    posts=[
                        PostHit(post=posts[post_id], snippet=render_snippet(posts[post_id].headline), rank=rank)
                        for post_id, _, rank in shown[topic_id]
                        if post_id in posts
                    ],
                )
            )

    if result.total_topics < SUGGEST_BELOW:
        result.suggestion = _did_you_mean(parsed=parsed, community_ids=community_ids)
    if result.total_topics == 0:
        for name in request.filters.active():
            # Topics among the first RELAX_SCAN matching posts, at most 100 ("100+"): a lower bound that
            # never reads every match of a common word.
            relaxed = _filtered(visible, request.filters.without(name), community_ids).filter(
                search_vector=search_query
            )
            found = min(len(set(relaxed.order_by().values_list("topic_id", flat=True)[:RELAX_SCAN])), 100)
            if found:
                result.relaxations.append((name, found))
    return result


# ---------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------


def notifications_for(*, member: Member, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    notifications = visible_notifications(member)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return list(notifications.select_related("actor", "topic", "community").order_by("-created_at", "-id")[:limit])


def notification_target(*, notification: Notification) -> str:
    """Where opening a notification leads: the post, else its topic, else its community."""
    if notification.topic_id:
        anchor = f"#post-{notification.post_id}" if notification.post_id else ""
        return reverse("topic-detail", kwargs={"topic_id": notification.topic_id}) + anchor
    if notification.community_id:
        slug = Community.objects.values_list("slug", flat=True).get(pk=notification.community_id)
        return reverse("community-detail", kwargs={"slug": slug})
    return reverse("notifications")


def unread_count(*, member: Member) -> int:
    return visible_notifications(member).filter(read_at__isnull=True).count()


# ---------------------------------------------------------------------------------------------
# Moderation log
# ---------------------------------------------------------------------------------------------


def moderation_log(
    *, member: Member, tenant: Tenant, community: Community | None = None, limit: int = 200
) -> list[ModerationAction]:
    """Moderators see every decision in this tenant (optionally one community's); anyone else sees
    only the decisions about themselves, so a member can always learn what was done to their posts."""
    if not member.is_authenticated:
        return []
    actions = ModerationAction.objects.select_related("actor", "subject", "community")
    if not can_moderate(member=member, tenant=tenant):
        actions = actions.filter(subject_id=member.pk)
    if community is not None:
        actions = actions.filter(community=community)
    return list(actions.order_by("-created_at", "-id")[: max(1, min(limit, 500))])


MODERATION_LOG_COLUMNS = [
    "id", "when", "decision", "summary", "moderator", "about", "community", "topic_id", "post_id", "reason",
    "before_text", "after_text",
]  # fmt: skip


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it so it stays text.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def moderation_log_rows(*, member: Member, tenant: Tenant) -> list[list[str]]:
    """The whole moderation log as rows of text (MODERATION_LOG_COLUMNS), oldest first, for this
    tenant's administrators only (anyone else gets no rows). Names are as this tenant knows them."""
    if not can_administer_tenant(member=member, tenant=tenant):
        return []
    actions = list(
        ModerationAction.objects.select_related("actor", "subject", "community").order_by("created_at", "id")
    )
    attach_display_names(actions, tenant=tenant, attrs=("actor", "subject"))
    return [
        [
            _csv_cell(value)
            for value in (
                action.pk,
                action.created_at.isoformat(),
                action.kind,
                action.summary,
                "(rules: flags)"
                if action.kind == ModerationActionKind.AUTO_HIDDEN
                else getattr(action, "actor_name", ""),
                getattr(action, "subject_name", "") if action.subject_id else "",
                action.community.slug if action.community else "",
                action.topic_id_ref,
                action.post_id_ref,
                action.reason,
                action.before_text,
                action.after_text,
            )
        ]
        for action in actions
    ]


# ---------------------------------------------------------------------------------------------
# Review queue
# ---------------------------------------------------------------------------------------------

HELD_FILTER = "held"


def crisis_resources() -> tuple[str, ...]:
    """The tenant's crisis resources, one per line (a sensible default list until they edit it)."""
    return tuple(line.strip() for line in moderation_settings().crisis_resources.splitlines() if line.strip())


def moderation_settings() -> ModerationSettings:
    """This tenant's moderation settings (the defaults until someone saves them)."""
    return ModerationSettings.objects.order_by("pk").first() or ModerationSettings()


def review_queue(
    *,
    member: Member,
    tenant: Tenant,
    community_slug: str | None = None,
    reason: str | None = None,
    limit: int = 100,
) -> list[ReviewItem]:
    """This tenant's open review items, highest risk first, then oldest: for its moderators only
    (anyone else gets an empty list; the views answer 404 before asking). ``reason`` is a flag
    reason, or "held" for pre-moderated posts."""
    if not can_moderate(member=member, tenant=tenant):
        return []
    items = ReviewItem.objects.filter(status=ReviewStatus.OPEN)
    if community_slug:
        items = items.filter(community__slug=community_slug)
    if reason == HELD_FILTER:
        items = items.filter(held=True)
    elif reason:
        items = items.filter(reasons__contains=[reason])
    return list(
        items.select_related("community", "post__author", "post__topic")
        .prefetch_related("post__flags")
        .order_by("-risk", "-escalated", "created_at", "id")[: max(1, min(limit, 500))]
    )


def open_review_count(*, member: Member, tenant: Tenant) -> int:
    if not can_moderate(member=member, tenant=tenant):
        return 0
    return ReviewItem.objects.filter(status=ReviewStatus.OPEN).count()


# ---------------------------------------------------------------------------------------------
# Clinical trials (communities link to trials; trials never import communities)
# ---------------------------------------------------------------------------------------------


def trial_discussions(*, member: Member, tenant: Tenant, nct_id: str) -> list[Topic]:
    """This tenant's live topics about a trial, in communities the member may read."""
    return list(
        visible_topics(member=member, tenant=tenant)
        .filter(
            trial_nct_id=nct_id.strip().upper(),
            deleted_at__isnull=True,
            community__in=readable_communities(member=member, tenant=tenant),
        )
        .select_related("community")
        .order_by("community__name", "pk")
    )


def covered_condition_ids() -> set[int]:
    """Condition ids any community of the current tenant covers (the trial sync asks for their trials)."""
    return set(Community.conditions.through.objects.values_list("condition_id", flat=True))


def archive_statistics() -> dict[str, object]:
    """Aggregate counts of this tenant's communities for its partner's archive: no names, no people.

    The archive reports the small monthly counts as "<5" (partnerships.archive.register_statistics).
    """

    def per_month(queryset: QuerySet[Topic] | QuerySet[Post]) -> dict[str, object]:
        rows = queryset.annotate(month=TruncMonth("created_at")).values("month").annotate(n=Count("id"))
        return {f"{row['month']:%Y-%m}": row["n"] for row in rows.order_by("month")}

    return {
        "communities": Community.objects.count(),
        "topics_per_month": per_month(Topic.objects.all()),
        "posts_per_month": per_month(Post.objects.all()),
    }


# --- research exports (research passes the consent gate first and hands us only consenting ids) ----


@dataclass(frozen=True)
class ResearchPost:
    """One post as a research export may see it: no author name, no ids beyond this tenant's post id."""

    post_id: int
    author_id: int
    community_slug: str
    topic_id: int
    is_opening: bool
    title: str
    body_markdown: str
    created_at: datetime.datetime
    helpful_count: int
    same_here_count: int
    support_count: int
    tags: tuple[str, ...]


def existing_community_slugs(*, slugs: Sequence[str]) -> set[str]:
    """Which of ``slugs`` name a community of the current tenant."""
    return set(Community.objects.filter(slug__in=list(slugs)).values_list("slug", flat=True))


def active_community_member_ids(*, member_ids: Sequence[int], community_slugs: Sequence[str]) -> set[int]:
    """Of ``member_ids``, those with an active membership of one of these communities (current tenant)."""
    return set(
        CommunityMembership.objects.filter(
            member_id__in=list(member_ids),
            community__slug__in=list(community_slugs),
            status=CommunityMembershipStatus.ACTIVE,
        ).values_list("member_id", flat=True)
    )


def research_posts(
    *,
    author_ids: Sequence[int],
    community_slugs: Sequence[str] = (),
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> list[ResearchPost]:
    """Published, undeleted posts of published topics by ``author_ids`` in the current tenant, oldest first.

    Only research.services calls this, with ids that passed consent.selectors.members_consenting_to.
    """
    posts = Post.objects.filter(
        author_id__in=list(author_ids),
        status=ContentStatus.PUBLISHED,
        deleted_at__isnull=True,
        topic__deleted_at__isnull=True,
        topic__status=ContentStatus.PUBLISHED,
    )
    if community_slugs:
        posts = posts.filter(topic__community__slug__in=list(community_slugs))
    if since is not None:
        posts = posts.filter(created_at__gte=since)
    if until is not None:
        posts = posts.filter(created_at__lt=until)
    posts = posts.select_related("topic__community").prefetch_related(
        Prefetch("topic__tags", queryset=Tag.objects.filter(status=TagStatus.CURATED).order_by("name"))
    )
    return [
        ResearchPost(
            post_id=post.pk,
            author_id=post.author_id or 0,
            community_slug=post.topic.community.slug,
            topic_id=post.topic_id,
            is_opening=post.is_opening,
            title=post.topic.title if post.is_opening else "",
            body_markdown=post.body_markdown,
            created_at=post.created_at,
            helpful_count=post.helpful_count,
            same_here_count=post.same_here_count,
            support_count=post.support_count,
            tags=tuple(tag.name for tag in post.topic.tags.all()),
        )
        for post in posts.order_by("created_at", "id")
    ]


# ---------------------------------------------------------------------------------------------
# The management pages and the moderators' API (callers check the role first)
# ---------------------------------------------------------------------------------------------


def _count_per_community(model: type[Model], **filters: Any) -> Coalesce:
    rows = (
        model._default_manager.filter(community_id=OuterRef("pk"), **filters)
        .order_by()
        .values("community_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def communities_with_counts() -> QuerySet[Community]:
    return Community.objects.order_by("name").annotate(
        member_count=_count_per_community(CommunityMembership, status=CommunityMembershipStatus.ACTIVE),
        pending_count=_count_per_community(CommunityMembership, status=CommunityMembershipStatus.PENDING),
        topic_count=_count_per_community(Topic, deleted_at__isnull=True),
        proposed_tag_count=_count_per_community(Tag, status=TagStatus.PROPOSED),
    )


def all_communities() -> list[Community]:
    return list(Community.objects.order_by("name"))


def community_by_slug(*, slug: str) -> Community | None:
    return Community.objects.filter(slug=slug).first()


def proposed_tags(*, community: Community | None = None) -> QuerySet[Tag]:
    rows = Tag.objects.filter(status=TagStatus.PROPOSED)
    if community is not None:
        rows = rows.filter(community=community)
    return rows.select_related("community", "proposed_by").order_by("community__name", "kind", "name", "pk")


def access_community_tag(*, community: Community, tag_id: int) -> Tag:
    tag = community.tags.filter(pk=tag_id).first()
    if tag is None:
        raise Http404("No such tag.")
    return tag


def merge_targets(*, source: Tag) -> QuerySet[Tag]:
    """The curated tags of the source's community that it may be merged into."""
    return Tag.objects.filter(community_id=source.community_id, status=TagStatus.CURATED).exclude(pk=source.pk)


def tags_with_topic_counts(*, community: Community) -> tuple[list[Tag], list[Tag]]:
    """A community's curated and proposed tags, each with the number of topics carrying it."""
    curated: list[Tag] = list(
        community.tags.filter(status=TagStatus.CURATED).annotate(topic_count=Count("topics")).order_by("kind", "name")
    )
    proposed: list[Tag] = list(proposed_tags(community=community).annotate(topic_count=Count("topics")))
    return curated, proposed


def live_topic(*, topic_id: int) -> Topic | None:
    return Topic.objects.filter(pk=topic_id, deleted_at__isnull=True).first()


def review_item_with_post(*, item_id: int) -> ReviewItem:
    return ReviewItem.objects.select_related("community", "post__author", "post__topic").get(pk=item_id)


def search_synonym_list() -> QuerySet[SearchSynonym]:
    return SearchSynonym.objects.order_by("id")


def access_search_synonym(*, synonym_id: int) -> SearchSynonym:
    synonym = SearchSynonym.objects.filter(pk=synonym_id).first()
    if synonym is None:
        raise Http404("No such synonym group.")
    return synonym


def watched_word_list() -> QuerySet[WatchedWord]:
    return WatchedWord.objects.order_by("action", "pattern")


def access_watched_word(*, word_id: int) -> WatchedWord:
    word = WatchedWord.objects.filter(pk=word_id).first()
    if word is None:
        raise Http404("No such watched word.")
    return word


def crisis_terms() -> QuerySet[CrisisTerm]:
    return CrisisTerm.objects.all()


def on_call_moderators() -> QuerySet[OnCallModerator]:
    return OnCallModerator.objects.select_related("member").order_by("pk")


def on_call_member_ids() -> list[int]:
    return list(OnCallModerator.objects.values_list("member_id", flat=True))


def trust_of(*, member: Member) -> MemberTrust | None:
    return MemberTrust.objects.filter(member_id=member.pk).first()


def restriction_history(*, member: Member, limit: int = 50) -> QuerySet[MemberRestriction]:
    return MemberRestriction.objects.filter(member_id=member.pk).order_by("-id")[:limit]


def moderator_memberships(
    *, tenant: Tenant, order_by: Sequence[str] = ("role", "joined_at", "id")
) -> QuerySet[TenantMembership]:
    """This tenant's moderators and admins."""
    return (
        TenantMembership.objects.filter(tenant_id=tenant.pk, role__in=(MembershipRole.MODERATOR, MembershipRole.ADMIN))
        .select_related("member")
        .order_by(*order_by)
    )


def find_tenant_members(*, tenant: Tenant, query: str, limit: int) -> list[TenantMembership]:
    """Members of this tenant by their id here or the name they use here (their platform name when
    they set none)."""
    return list(
        TenantMembership.objects.filter(tenant_id=tenant.pk)
        .filter(
            Q(local_id=query)
            | Q(display_name__icontains=query)
            | Q(display_name="", member__display_name__icontains=query)
        )
        .select_related("member")
        .order_by("joined_at", "id")[:limit]
    )


def local_ids_of(*, tenant: Tenant, member_ids: Sequence[int]) -> dict[int, str]:
    return dict(
        TenantMembership.objects.filter(tenant_id=tenant.pk, member_id__in=member_ids).values_list(
            "member_id", "local_id"
        )
    )


def member_ids_by_local_id(*, tenant: Tenant, local_ids: Sequence[str]) -> dict[str, int]:
    """Members of this tenant by their id here (the only id a partner host shows)."""
    return dict(
        TenantMembership.objects.filter(tenant_id=tenant.pk, local_id__in=local_ids).values_list(
            "local_id", "member_id"
        )
    )
