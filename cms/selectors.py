"""Reads for the partner's pages (tenant schema): the library, expert sessions, the stale-review report,
partner insights and the embeddable feed. Call inside the tenant's context."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone
from wagtail.models import Page, Site
from wagtail.query import PageQuerySet

from cms.models import (
    STALE_AFTER_DAYS,
    CommunityHomePage,
    ExpertQuestion,
    ExpertQuestionVote,
    ExpertSessionPage,
    QuestionStatus,
    ResourceIndexPage,
    ResourcePage,
    ResourceTopicTag,
    ResourceType,
)
from communities.models import (
    Community,
    ContentStatus,
    Flag,
    Post,
    ReviewItem,
    Tag,
    Topic,
    TopicKind,
    Visibility,
)
from communities.permissions import can_moderate
from communities.selectors import readable_communities, visible_communities
from conditions.models import Condition
from core.errors import NotFound
from members.models import Member, TenantMembership
from tenants.models import Tenant
from tenants.selectors import tenant_path

SMALL_CELL_MAX = 10  # counts 1..10 are shown as "<11"
INSIGHT_WEEKS = 12
EMBED_LIMIT_MAX = 20


def small_cell(count: int) -> int | str:
    """A count a partner may see: 1 to 10 read "<11" so no small group of members is exposed."""
    return f"<{SMALL_CELL_MAX + 1}" if 0 < count <= SMALL_CELL_MAX else count


# --- pages ------------------------------------------------------------------------------------


def home_page() -> CommunityHomePage | None:
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        return None
    root = site.root_page.specific
    return root if isinstance(root, CommunityHomePage) else None


def live_resources() -> PageQuerySet:
    return ResourcePage.objects.live().public().specific()


def upcoming_sessions(*, member: Member, tenant: Tenant, limit: int = 5) -> list[ExpertSessionPage]:
    """The sessions still to come (or on now) that this reader may see, soonest first."""
    now = timezone.now()
    sessions = visible_sessions(member=member, tenant=tenant).filter(starts_at__gte=now - datetime.timedelta(hours=3))
    return list(sessions.select_related("community").order_by("starts_at")[:limit])


def home_page_sections(*, page: CommunityHomePage, member: Member, tenant: Tenant) -> dict[str, Any]:
    """What the community home shows this reader: featured communities they may see listed, featured
    resources, and only the upcoming sessions whose community they may read."""
    featured = list(page.featured_resources.all()) or list(live_resources().order_by("-last_published_at")[:3])
    listed = visible_communities(member=member, tenant=tenant).values("pk")
    return {
        "featured_communities": list(page.featured_communities.filter(pk__in=listed).order_by("name")),
        "featured_resources": [resource for resource in featured if resource.live],
        "upcoming_sessions": upcoming_sessions(member=member, tenant=tenant),
        "library": ResourceIndexPage.objects.live().descendant_of(page).first(),
    }


@dataclass(frozen=True)
class LibraryFilters:
    condition: str = ""
    topic: str = ""
    resource_type: str = ""
    q: str = ""


def library_filters(params: Mapping[str, Any]) -> LibraryFilters:
    """Unknown values are ignored (a stale link shows everything rather than an error page)."""
    resource_type = str(params.get("type") or "")
    return LibraryFilters(
        condition=str(params.get("condition") or "")[:200],
        topic=str(params.get("topic") or "")[:100],
        resource_type=resource_type if resource_type in ResourceType.values else "",
        q=str(params.get("q") or "")[:200],
    )


def library_resources(*, filters: LibraryFilters, index_page: Page | None = None) -> PageQuerySet:
    resources = live_resources()
    if index_page is not None:
        resources = resources.descendant_of(index_page)
    if filters.condition:
        resources = resources.filter(conditions__slug=filters.condition)
    if filters.topic:
        resources = resources.filter(topics__slug=filters.topic)
    if filters.resource_type:
        resources = resources.filter(resource_type=filters.resource_type)
    if filters.q:
        resources = resources.filter(Q(title__icontains=filters.q) | Q(summary__icontains=filters.q))
    return resources.distinct().order_by("title").prefetch_related("conditions", "tagged_items__tag")


def library_facets() -> dict[str, list[tuple[str, str]]]:
    live_ids = live_resources().values("pk")
    conditions = Condition.objects.filter(
        pk__in=ResourcePage.conditions.through.objects.filter(resourcepage_id__in=live_ids).values("condition_id")
    ).order_by("name")
    tags = (
        ResourceTopicTag.objects.filter(content_object_id__in=live_ids)
        .values_list("tag__slug", "tag__name")
        .distinct()
        .order_by("tag__name")
    )
    return {
        "conditions": [(c.slug, c.name) for c in conditions],
        "topics": list(tags),
        "types": list(ResourceType.choices),
    }


def library_context(*, index_page: Page | None, params: Mapping[str, Any]) -> dict[str, Any]:
    filters = library_filters(params)
    return {
        "filters": filters,
        "resources": list(library_resources(filters=filters, index_page=index_page)[:200]),
        "facets": library_facets(),
    }


# --- expert sessions --------------------------------------------------------------------------


def visible_sessions(*, member: Member, tenant: Tenant) -> PageQuerySet:
    """THE read rule of expert sessions: live, public session pages that belong to no community, or to
    one this reader may read (communities' own rule, ``readable_communities``: open communities for
    anyone; members-only ones for their active members, this tenant's moderators and admins, and
    superusers). Every reader of sessions starts here: the session page, the home page's and the API's
    lists, the API's detail, questions and votes, and the services that write them. A session of a
    community the reader can't read does not exist for them (404, absent from every list)."""
    readable = readable_communities(member=member, tenant=tenant).values("pk")
    return ExpertSessionPage.objects.live().public().filter(Q(community__isnull=True) | Q(community__in=readable))


def can_read_session(*, member: Member, tenant: Tenant, session: ExpertSessionPage, preview: bool = False) -> bool:
    """``preview``: Wagtail's preview of a draft (editors only, maybe never saved): the community rule
    alone, since a draft is neither live nor listed."""
    if preview:
        return session.community_id is None or (
            readable_communities(member=member, tenant=tenant).filter(pk=session.community_id).exists()
        )
    return visible_sessions(member=member, tenant=tenant).filter(pk=session.pk).exists()


def access_session(*, member: Member, tenant: Tenant, session_id: int) -> ExpertSessionPage:
    """The session if this reader may see it; 404 alike for missing, unpublished and forbidden."""
    session = visible_sessions(member=member, tenant=tenant).filter(pk=session_id).select_related("community").first()
    if session is None:
        raise NotFound("No such expert session.")
    return session


def access_question(*, member: Member, tenant: Tenant, question_id: int) -> ExpertQuestion:
    """A visible question of a session this reader may see (404 alike for missing, hidden, unpublished
    and forbidden)."""
    question = (
        ExpertQuestion.objects.select_related("session", "session__community")
        .filter(pk=question_id, session__in=visible_sessions(member=member, tenant=tenant).values("pk"))
        .exclude(status=QuestionStatus.HIDDEN)
        .first()
    )
    if question is None:
        raise NotFound("No such question.")
    return question


def is_session_expert(*, member: Member, session: ExpertSessionPage) -> bool:
    """The member the session names as its expert (signed in and active)."""
    return bool(
        member.is_authenticated
        and member.is_active
        and session.expert_member_id is not None
        and session.expert_member_id == member.pk
    )


def can_answer_session(*, member: Member, tenant: Tenant, session: ExpertSessionPage) -> bool:
    """Who posts the expert's answers: this tenant's moderators and admins, and the session's own expert
    while they are a member of this tenant and may read the session (cms.services.answer_question
    enforces it; pages and the API use it to show the answer form)."""
    if not member.is_authenticated or not member.is_active:
        return False
    if can_moderate(member=member, tenant=tenant):
        return True
    return (
        is_session_expert(member=member, session=session)
        and TenantMembership.objects.filter(member_id=member.pk, tenant_id=tenant.pk).exists()
        and can_read_session(member=member, tenant=tenant, session=session)
    )


def session_questions(*, session: ExpertSessionPage, member: Any) -> list[ExpertQuestion]:
    """Questions most-voted first (hidden ones only for nobody); each carries ``voted`` for ``member``."""
    questions = list(
        ExpertQuestion.objects.filter(session_id=session.pk)
        .exclude(status=QuestionStatus.HIDDEN)
        .select_related("author")
    )
    voted: set[int] = set()
    if getattr(member, "is_authenticated", False):
        voted = set(
            ExpertQuestionVote.objects.filter(question__session_id=session.pk, member_id=member.pk).values_list(
                "question_id", flat=True
            )
        )
    for question in questions:
        question.voted = question.pk in voted  # type: ignore[attr-defined]
    return questions


def session_transcript(*, session: ExpertSessionPage) -> list[ExpertQuestion]:
    """The answered questions in the order they were answered: what the session page keeps."""
    return list(
        ExpertQuestion.objects.filter(session_id=session.pk, status=QuestionStatus.ANSWERED).order_by(
            "answered_at", "id"
        )
    )


def session_context(
    *, session: ExpertSessionPage, member: Member, tenant: Tenant, preview: bool = False
) -> dict[str, Any]:
    """The session page's questions and transcript, for a reader who may see the session (404 otherwise:
    the same rule as every list of sessions)."""
    if not can_read_session(member=member, tenant=tenant, session=session, preview=preview):
        raise NotFound("No such expert session.")
    questions = session_questions(session=session, member=member)
    return {
        "can_answer": can_answer_session(member=member, tenant=tenant, session=session),
        "questions": [q for q in questions if q.status == QuestionStatus.OPEN],
        "transcript": session_transcript(session=session),
    }


# --- curation ---------------------------------------------------------------------------------


def stale_resources(*, today: datetime.date | None = None) -> QuerySet[ResourcePage]:
    """Resources (live or draft) never reviewed, or last reviewed more than 12 months ago; oldest first."""
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=STALE_AFTER_DAYS)
    return (
        ResourcePage.objects.filter(Q(reviewed_at__isnull=True) | Q(reviewed_at__lt=cutoff))
        .order_by("reviewed_at", "title")
        .specific()
    )


# --- insights ---------------------------------------------------------------------------------


def _weeks(*, today: datetime.date, weeks: int) -> list[datetime.date]:
    monday = today - datetime.timedelta(days=today.weekday())
    return [monday - datetime.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _per_week(rows: QuerySet[Any], weeks: list[datetime.date]) -> list[dict[str, Any]]:
    counts = {row["week"].date() if hasattr(row["week"], "date") else row["week"]: row["n"] for row in rows}
    return [{"week": week.isoformat(), "count": small_cell(counts.get(week, 0))} for week in weeks]


def partner_insights(
    *, tenant: Tenant, today: datetime.date | None = None, weeks: int = INSIGHT_WEEKS
) -> dict[str, Any]:
    """Aggregate counts for the partner's dashboard, small cells suppressed (never a member's data)."""
    today = today or timezone.localdate()
    week_starts = _weeks(today=today, weeks=weeks)
    since = datetime.datetime.combine(week_starts[0], datetime.time.min, tzinfo=datetime.UTC)
    published_posts = Post.objects.filter(
        status=ContentStatus.PUBLISHED, deleted_at__isnull=True, created_at__gte=since
    )

    joined = (
        TenantMembership.objects.filter(tenant=tenant, joined_at__gte=since)
        .annotate(week=TruncWeek("joined_at"))
        .values("week")
        .annotate(n=Count("id"))
    )
    active = (
        published_posts.annotate(week=TruncWeek("created_at")).values("week").annotate(n=Count("author", distinct=True))
    )
    topics = (
        published_posts.filter(is_opening=True)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
    )
    replies = (
        published_posts.filter(is_opening=False)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
    )
    review = (
        ReviewItem.objects.filter(created_at__gte=since)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
    )
    flags = (
        Flag.objects.filter(created_at__gte=since)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
    )
    unanswered = Topic.objects.filter(
        kind=TopicKind.QUESTION, reply_count=0, deleted_at__isnull=True, status=ContentStatus.PUBLISHED
    ).count()
    top_tags = (
        Tag.objects.filter(topics__deleted_at__isnull=True, topics__status=ContentStatus.PUBLISHED)
        .annotate(n=Count("topics", distinct=True))
        .filter(n__gt=0)
        .order_by("-n", "name")
        .values_list("name", "community__name", "n")[:10]
    )
    return {
        "weeks": [week.isoformat() for week in week_starts],
        "members_joined": _per_week(joined, week_starts),
        "active_members": _per_week(active, week_starts),
        "topics": _per_week(topics, week_starts),
        "replies": _per_week(replies, week_starts),
        "moderation_load": _per_week(review, week_starts),
        "flags": _per_week(flags, week_starts),
        "questions_without_replies": small_cell(unanswered),
        "top_tags": [{"tag": name, "community": community, "count": small_cell(n)} for name, community, n in top_tags],
    }


INSIGHT_SERIES = {
    "members_joined": "Members joined",
    "active_members": "Active members (posted that week)",
    "topics": "New topics",
    "replies": "Replies",
    "moderation_load": "Posts sent for review",
    "flags": "Reports by members",
}


def insight_csv_rows(*, insights: dict[str, Any], series: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one chart's CSV (the same suppressed values as the chart)."""
    if series == "top_tags":
        return ["tag", "community", "topics"], [
            [row["tag"], row["community"], str(row["count"])] for row in insights["top_tags"]
        ]
    if series == "questions_without_replies":
        return ["questions_without_replies"], [[str(insights["questions_without_replies"])]]
    if series not in INSIGHT_SERIES:
        raise NotFound("No such chart.")
    return ["week_starting", series], [[row["week"], str(row["count"])] for row in insights[series]]


# --- the embeddable feed ----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    title: str
    community: str
    url: str
    created_at: datetime.datetime
    replies: int


def embed_feed(*, limit: int = 10) -> list[FeedItem]:
    """Latest topics of this tenant's open communities: published, not removed (what a signed-out reader
    of the community sees; members-only communities never appear)."""
    topics = (
        Topic.objects.filter(
            community__visibility=Visibility.OPEN, status=ContentStatus.PUBLISHED, deleted_at__isnull=True
        )
        .select_related("community")
        .order_by("-created_at", "-id")[: max(1, min(limit, EMBED_LIMIT_MAX))]
    )
    return [
        FeedItem(
            title=topic.title,
            community=topic.community.name,
            url=tenant_path("topic-detail", kwargs={"topic_id": topic.pk}),
            created_at=topic.created_at,
            replies=topic.reply_count,
        )
        for topic in topics
    ]


def open_communities() -> QuerySet[Community]:
    return Community.objects.filter(visibility=Visibility.OPEN)


def member_question_rows(*, member: Member) -> list[dict[str, Any]]:
    """A member's own questions and votes, for their data export."""
    return [
        {"session": q.session.title, "question": q.body, "asked_at": q.created_at.isoformat(), "status": q.status}
        for q in ExpertQuestion.objects.filter(author_id=member.pk).select_related("session")
    ] + [
        {"voted_for_question": v.question_id, "at": v.created_at.isoformat()}
        for v in ExpertQuestionVote.objects.filter(member_id=member.pk)
    ]
