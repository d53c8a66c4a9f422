"""Communities API v1 (tenant hosts): thin views over communities.services / selectors / feed.

Reads use AllowAny and rely on the selectors (404 alike for missing and forbidden); writes need a
signed-in member (the services check the finer rules and raise domain errors with a code).
"""

from __future__ import annotations

import csv
from typing import Any, cast

from django.db import transaction
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import feed, moderation, safety, selectors, services, wording
from communities.models import (
    Community,
    CommunityMembership,
    ContentStatus,
    FlagReason,
    JoiningPolicy,
    MemberRestriction,
    ModerationAction,
    Notification,
    Post,
    RestrictionKind,
    SearchSynonym,
    Tag,
    TagKind,
    TagStatus,
    Topic,
    TopicKind,
    TrustLevel,
    Visibility,
    WatchedWordAction,
    WatchLevel,
)
from communities.moderation import Decision
from communities.permissions import can_moderate
from communities.search import SORTS, STATUSES, search_request_from
from config.api import query_int
from core.errors import InvalidInput, NotAllowed
from members.models import Member
from members.requests import request_member
from members.selectors import (
    attach_display_names,
    can_administer_tenant,
    local_id_of,
    member_by_local_id,
    tenant_name_of,
)
from tenants.models import Tenant
from tenants.requests import request_tenant
from tenants.selectors import current_tenant

# ---------------------------------------------------------------------------------------------
# Request helpers and lookups (permission-checked through the selectors: 404 alike)
# ---------------------------------------------------------------------------------------------


# Paged lists: `limit` (documented default and maximum) and an opaque `cursor` taken from the
# previous page's `next_cursor`; a bad value of either is a 400 naming it, never a silent first page.
TOPICS_PAGE, FEED_PAGE, MAX_PAGE = 30, 20, 100
CURSOR_PARAMETER = OpenApiParameter(
    "cursor", str, required=False, description="next_cursor of the previous page; leave out for the first page"
)


def _limit_parameter(default: int) -> OpenApiParameter:
    return OpenApiParameter(
        "limit", int, required=False, description=f"Results per page: 1 to {MAX_PAGE} (default {default})"
    )


def _readable_community(request: Request, slug: str) -> Community:
    return selectors.access_readable_community(
        member=request_member(request), tenant=request_tenant(request), slug=slug
    )


def _readable_post(request: Request, post_id: int) -> Post:
    return selectors.access_post_by_id(member=request_member(request), tenant=request_tenant(request), post_id=post_id)


def _readable_tag(request: Request, tag_id: int) -> Tag:
    return selectors.access_tag(member=request_member(request), tenant=request_tenant(request), tag_id=tag_id)


# ---------------------------------------------------------------------------------------------
# Serializers (output)
# ---------------------------------------------------------------------------------------------


def _tenant_here() -> Tenant:
    """The tenant whose schema this request reads (serializers have no request of their own)."""
    tenant = current_tenant()
    if tenant is None:
        raise LookupError("no tenant schema is active")
    return tenant


class AuthorSerializer(serializers.Serializer[Member]):
    id = serializers.SerializerMethodField(help_text="The member's id on this tenant (differs on every other).")
    display_name = serializers.SerializerMethodField(help_text="The name this member uses on this tenant.")

    def get_id(self, member: Member) -> str:
        return local_id_of(member, tenant=_tenant_here())

    def get_display_name(self, member: Member) -> str:
        # Lists attach names in bulk (members.selectors.attach_display_names); single rows look theirs up.
        attached = getattr(member, "tenant_name", None)
        if attached is not None:
            return str(attached)
        return tenant_name_of(member=member, tenant=_tenant_here())


class CommunitySerializer(serializers.ModelSerializer[Community]):
    conditions: serializers.RelatedField[Any, Any, Any] = serializers.SlugRelatedField(
        slug_field="mesh_id", many=True, read_only=True
    )

    class Meta:
        model = Community
        fields = [
            "slug", "name", "description", "rules", "visibility", "joining_policy", "listed_in_directory",
            "premoderated_posts", "conditions", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class CommunityMembershipSerializer(serializers.ModelSerializer[CommunityMembership]):
    community = serializers.CharField(source="community.slug", read_only=True)
    member = AuthorSerializer(read_only=True)

    class Meta:
        model = CommunityMembership
        fields = ["id", "community", "member", "status", "joined_at"]
        read_only_fields = fields


class TagSerializer(serializers.ModelSerializer[Tag]):
    merged_into: serializers.RelatedField[Any, Any, Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The tag this one was merged into, if it was."
    )

    class Meta:
        model = Tag
        fields = ["id", "kind", "name", "slug", "status", "merged_into"]
        read_only_fields = fields


class TopicSerializer(serializers.ModelSerializer[Topic]):
    community = serializers.CharField(source="community.slug", read_only=True)
    author = AuthorSerializer(read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    answer_post_id = serializers.IntegerField(source="answer_id", read_only=True, allow_null=True)

    class Meta:
        model = Topic
        fields = [
            "id", "community", "kind", "title", "author", "tags", "created_at", "last_activity_at", "reply_count",
            "reaction_count", "answer_post_id", "status", "locked_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(TagSerializer(many=True))
    def get_tags(self, topic: Topic) -> list[dict[str, Any]]:
        # Proposed tags wait for a moderator; the prefetch may already have filtered them out.
        curated = [tag for tag in topic.tags.all() if tag.status == TagStatus.CURATED]
        return cast(list[dict[str, Any]], TagSerializer(curated, many=True).data)


class ReactionCountsSerializer(serializers.Serializer[Post]):
    helpful = serializers.IntegerField(source="helpful_count", read_only=True)
    same_here = serializers.IntegerField(source="same_here_count", read_only=True)
    support = serializers.IntegerField(source="support_count", read_only=True)


class PostSerializer(serializers.Serializer[Any]):
    """A post as one viewer sees it (built from selectors.PostView)."""

    id = serializers.IntegerField(source="post.pk", read_only=True)
    topic_id = serializers.IntegerField(source="post.topic_id", read_only=True)
    author = AuthorSerializer(source="post.author", read_only=True, allow_null=True)
    is_opening = serializers.BooleanField(source="post.is_opening", read_only=True)
    quoted_post_id = serializers.IntegerField(source="post.quoted_post_id", read_only=True, allow_null=True)
    body_html = serializers.CharField(read_only=True)
    body_markdown = serializers.SerializerMethodField(help_text="The source text, for its author only.")
    is_removed = serializers.BooleanField(read_only=True)
    is_answer = serializers.BooleanField(read_only=True)
    reactions = ReactionCountsSerializer(source="post", read_only=True)
    my_reactions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="post.created_at", read_only=True)
    edited_at = serializers.DateTimeField(source="post.edited_at", read_only=True, allow_null=True)
    edit_count = serializers.IntegerField(source="post.edit_count", read_only=True)
    status = serializers.ChoiceField(
        source="post.status",
        choices=ContentStatus.choices,
        read_only=True,
        help_text="held: awaiting review; hidden: hidden pending a moderator (both seen by author and moderators only)",
    )
    hidden_reason = serializers.CharField(source="post.hidden_reason", read_only=True)
    misinformation_note = serializers.CharField(source="post.misinformation_note", read_only=True)
    misinformation_url = serializers.CharField(source="post.misinformation_url", read_only=True)
    crisis_resources = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="For the author of a post that looks like a crisis: where to find help now",
    )

    def get_body_markdown(self, view: selectors.PostView) -> str | None:
        viewer = self.context.get("member")
        if view.is_removed or viewer is None or not viewer.is_authenticated:
            return None
        return view.post.body_markdown if view.post.author_id == viewer.pk else None

    def get_my_reactions(self, view: selectors.PostView) -> list[str]:
        return sorted(view.my_reactions)


def _post_view(post: Post, *, member: Member) -> dict[str, Any]:
    """One post as its author just wrote, edited or reacted to it."""
    removed = post.deleted_at is not None
    in_crisis = selectors.is_in_crisis(post=post)
    view = selectors.PostView(
        post=post,
        body_html=post.body_html if not removed else wording.REMOVED_HTML,
        is_removed=removed,
        is_answer=post.topic.answer_id == post.pk,
        crisis_resources=selectors.crisis_resources() if in_crisis and post.author_id == member.pk else (),
    )
    return dict(PostSerializer(view, context={"member": member}).data)


class TopicDetailSerializer(TopicSerializer):
    posts = PostSerializer(many=True, read_only=True)

    class Meta(TopicSerializer.Meta):
        fields = [*TopicSerializer.Meta.fields, "posts"]
        read_only_fields = fields


class TopicPageSerializer(serializers.Serializer[Any]):
    results = TopicSerializer(many=True, read_only=True)
    next_cursor = serializers.CharField(read_only=True, allow_null=True)


class FeedItemSerializer(serializers.Serializer[Any]):
    topic = TopicSerializer(read_only=True)
    score = serializers.FloatField(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)


class FeedPageSerializer(serializers.Serializer[Any]):
    results = FeedItemSerializer(many=True, read_only=True)
    next_cursor = serializers.CharField(read_only=True, allow_null=True)


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    actor = AuthorSerializer(read_only=True, allow_null=True)
    topic_id = serializers.IntegerField(read_only=True, allow_null=True)
    topic_title = serializers.CharField(source="topic.title", read_only=True, allow_null=True, default=None)
    post_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "topic_id", "topic_title", "post_id", "actor", "message", "created_at", "read_at"]
        read_only_fields = fields


class NotificationListSerializer(serializers.Serializer[Any]):
    results = NotificationSerializer(many=True, read_only=True)
    unread_count = serializers.IntegerField(read_only=True)


class WatchSerializer(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=WatchLevel.choices)


class ReactionResultSerializer(serializers.Serializer[Any]):
    post_id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    reacted = serializers.BooleanField(read_only=True)
    changed = serializers.BooleanField(read_only=True)
    reactions = ReactionCountsSerializer(read_only=True)


# ---------------------------------------------------------------------------------------------
# Serializers (input)
# ---------------------------------------------------------------------------------------------


def _checked_by_service(*, minimum: int, maximum: int, rule: str) -> type[serializers.CharField]:
    """A text field whose length the service checks (code ``rule``) whichever way the text arrives, web
    or API: the serializer only describes the range, so the same rule always answers with one code."""

    @extend_schema_field({"type": "string", "minLength": minimum, "maxLength": maximum})
    class ServiceCheckedText(serializers.CharField):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("help_text", f"{minimum} to {maximum} characters (else {rule!r}).")
            super().__init__(**kwargs)

        def run_validation(self, data: Any = empty) -> Any:
            if isinstance(data, str) and not data.strip():
                return data  # blank: the service refuses it with the rule's own code
            return super().run_validation(data)

    return ServiceCheckedText


TitleField = _checked_by_service(minimum=services.TITLE_MIN, maximum=services.TITLE_MAX, rule="title_length")
BodyField = _checked_by_service(minimum=1, maximum=services.BODY_MAX, rule="body_empty / body_too_long")
TagNameField = _checked_by_service(minimum=2, maximum=60, rule="tag_invalid")
CommunityNameField = _checked_by_service(minimum=2, maximum=120, rule="name_length")


class CommunityCreateSerializer(serializers.Serializer[Any]):
    name = CommunityNameField()
    slug = serializers.SlugField(max_length=120)
    description = serializers.CharField(required=False, default="", allow_blank=True)
    rules = serializers.CharField(required=False, default="", allow_blank=True)
    condition_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.MEMBERS_ONLY)
    joining_policy = serializers.ChoiceField(choices=JoiningPolicy.choices, required=False, default=JoiningPolicy.OPEN)
    listed_in_directory = serializers.BooleanField(required=False, default=True)
    premoderated_posts = serializers.IntegerField(required=False, default=2, min_value=0, max_value=50)


class CommunityUpdateSerializer(serializers.Serializer[Any]):
    name = CommunityNameField(required=False)
    slug = serializers.SlugField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    rules = serializers.CharField(required=False, allow_blank=True)
    condition_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    joining_policy = serializers.ChoiceField(choices=JoiningPolicy.choices, required=False)
    listed_in_directory = serializers.BooleanField(required=False)
    premoderated_posts = serializers.IntegerField(required=False, min_value=0, max_value=50)


class JoinDecisionSerializer(serializers.Serializer[Any]):
    approve = serializers.BooleanField()
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class ModerationReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class ModerationActionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)
    actor = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()
    community = serializers.SerializerMethodField()
    topic_id = serializers.IntegerField(source="topic_id_ref", read_only=True, allow_null=True)
    post_id = serializers.IntegerField(source="post_id_ref", read_only=True, allow_null=True)
    tag_id = serializers.IntegerField(source="tag_id_ref", read_only=True, allow_null=True)
    before_text = serializers.CharField(read_only=True)
    after_text = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_community(self, action: ModerationAction) -> str | None:
        return action.community.slug if action.community else None

    def get_actor(self, action: ModerationAction) -> str:
        return _public_name(action.actor)

    def get_subject(self, action: ModerationAction) -> str | None:
        return _public_name(action.subject) if action.subject_id else None


def _public_name(member: Member | None) -> str:
    """The member's name on this tenant (attached in bulk by the view, else looked up)."""
    if member is None:
        return wording.FORMER_MEMBER
    attached = getattr(member, "tenant_name", None)
    return str(attached) if attached is not None else tenant_name_of(member=member, tenant=_tenant_here())


class TagInputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=TagKind.choices)
    name = TagNameField()


class TagMergeSerializer(serializers.Serializer[Any]):
    into = serializers.IntegerField(help_text="Id of the tag to merge into.")


class TopicCreateSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=TopicKind.choices)
    title = TitleField()
    body = BodyField()
    tag_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    proposed_tags = serializers.ListField(child=TagNameField(), required=False, default=list, max_length=10)


class AnswerSerializer(serializers.Serializer[Any]):
    post_id = serializers.IntegerField()


class ReplySerializer(serializers.Serializer[Any]):
    body = BodyField()
    quoted_post_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class PostEditSerializer(serializers.Serializer[Any]):
    body = BodyField()
    title = TitleField(required=False, help_text="Only for the opening post.")


class MarkReadSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True, default=None)


class MarkReadResultSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField(read_only=True)
    unread_count = serializers.IntegerField(read_only=True)


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# ---------------------------------------------------------------------------------------------
# Communities
# ---------------------------------------------------------------------------------------------


class CommunityListView(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(responses=CommunitySerializer(many=True), summary="Communities I can see here")
    def get(self, request: Request) -> Response:
        communities = selectors.visible_communities(member=request_member(request), tenant=request_tenant(request))
        return Response(CommunitySerializer(communities.prefetch_related("conditions"), many=True).data)

    @extend_schema(
        request=CommunityCreateSerializer, responses={201: CommunitySerializer}, summary="Create a community (admins)"
    )
    def post(self, request: Request) -> Response:
        data = _valid(CommunityCreateSerializer, request)
        community = services.create_community(
            acting_member=request_member(request), tenant=request_tenant(request), **data
        )
        return Response(CommunitySerializer(community).data, status=status.HTTP_201_CREATED)


class CommunityDetailView(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(responses=CommunitySerializer, summary="One community")
    def get(self, request: Request, slug: str) -> Response:
        community = selectors.access_community(
            member=request_member(request), tenant=request_tenant(request), slug=slug
        )
        return Response(CommunitySerializer(community).data)

    @extend_schema(request=CommunityUpdateSerializer, responses=CommunitySerializer, summary="Change a community")
    def patch(self, request: Request, slug: str) -> Response:
        community = selectors.access_community(
            member=request_member(request), tenant=request_tenant(request), slug=slug
        )
        data = _valid(CommunityUpdateSerializer, request, partial=True)
        community = services.update_community(
            acting_member=request_member(request), tenant=request_tenant(request), community=community, **data
        )
        return Response(CommunitySerializer(community).data)


class CommunityMembershipView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=None,
        responses=CommunityMembershipSerializer,
        summary="Join a community (or ask to join one that needs approval)",
    )
    def post(self, request: Request, slug: str) -> Response:
        community = selectors.access_community(
            member=request_member(request), tenant=request_tenant(request), slug=slug
        )
        membership = services.join_community(
            member=request_member(request), tenant=request_tenant(request), community=community
        )
        return Response(CommunityMembershipSerializer(membership).data)

    @extend_schema(request=None, responses={204: None}, summary="Leave a community (or withdraw a request)")
    def delete(self, request: Request, slug: str) -> Response:
        community = selectors.access_community(
            member=request_member(request), tenant=request_tenant(request), slug=slug
        )
        services.leave_community(member=request_member(request), tenant=request_tenant(request), community=community)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _require_moderator(request: Request) -> None:
    if not can_moderate(member=request_member(request), tenant=request_tenant(request)):
        raise NotAllowed("Only this community's moderators can do that.", code="not_moderator")


class JoinRequestListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=CommunityMembershipSerializer(many=True), summary="Pending join requests (moderators)")
    def get(self, request: Request, slug: str) -> Response:
        community = selectors.access_community(
            member=request_member(request), tenant=request_tenant(request), slug=slug
        )
        _require_moderator(request)
        pending = selectors.pending_join_requests(community=community)
        attach_display_names(pending, tenant=request_tenant(request), attrs=("member",))
        return Response(CommunityMembershipSerializer(pending, many=True).data)


class JoinRequestDecisionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=JoinDecisionSerializer,
        responses={200: CommunityMembershipSerializer, 204: None},
        summary="Approve (200) or refuse (204) a join request (moderators)",
    )
    def post(self, request: Request, slug: str, request_id: int) -> Response:
        community = selectors.access_community(
            member=request_member(request), tenant=request_tenant(request), slug=slug
        )
        _require_moderator(request)
        data = _valid(JoinDecisionSerializer, request)
        membership = selectors.access_join_request(community=community, request_id=request_id)
        decided = services.decide_join_request(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            membership=membership,
            approve=data["approve"],
            reason=data["reason"],
        )
        if decided is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CommunityMembershipSerializer(decided).data)


class CommunityWatchView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=WatchSerializer, responses=WatchSerializer, summary="Watch, track or mute a community")
    def put(self, request: Request, slug: str) -> Response:
        community = selectors.access_community(
            member=request_member(request), tenant=request_tenant(request), slug=slug
        )
        data = _valid(WatchSerializer, request)
        subscription = services.set_community_watch_level(
            member=request_member(request), tenant=request_tenant(request), community=community, level=data["level"]
        )
        return Response({"level": subscription.level})


# ---------------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------------


class CommunityTagsView(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(
        responses=TagSerializer(many=True),
        summary="Tags of a community (curated; moderators and their proposers also see proposed ones)",
    )
    def get(self, request: Request, slug: str) -> Response:
        community = _readable_community(request, slug)
        tags = selectors.community_tags(
            member=request_member(request), tenant=request_tenant(request), community=community
        )
        return Response(TagSerializer(tags, many=True).data)

    @extend_schema(
        request=TagInputSerializer,
        responses={201: TagSerializer},
        summary="Propose a tag (members) or add a curated one (moderators)",
    )
    def post(self, request: Request, slug: str) -> Response:
        community = _readable_community(request, slug)
        data = _valid(TagInputSerializer, request)
        member, tenant = request_member(request), request_tenant(request)
        if can_moderate(member=member, tenant=tenant):
            tag = services.create_tag(acting_member=member, tenant=tenant, community=community, **data)
        else:
            tag = services.propose_tag(acting_member=member, tenant=tenant, community=community, **data)
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)


class TagMergeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=TagMergeSerializer, responses=TagSerializer, summary="Merge a tag into another (moderators)")
    def post(self, request: Request, tag_id: int) -> Response:
        source = _readable_tag(request, tag_id)
        data = _valid(TagMergeSerializer, request)
        target = selectors.tag_of_community(community_id=source.community_id, tag_id=data["into"])
        if target is None:
            raise InvalidInput("Merge into a tag of the same community.", details={"into": ["Unknown tag."]})
        merged = services.merge_tags(
            acting_member=request_member(request), tenant=request_tenant(request), source=source, target=target
        )
        return Response(TagSerializer(merged).data)


# ---------------------------------------------------------------------------------------------
# Topics
# ---------------------------------------------------------------------------------------------


class CommunityTopicsView(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=TopicKind.values, required=False),
            OpenApiParameter("tag", str, required=False, description="Tag slug"),
            CURSOR_PARAMETER,
            _limit_parameter(TOPICS_PAGE),
        ],
        responses=TopicPageSerializer,
        summary="Topics of a community, newest activity first",
    )
    def get(self, request: Request, slug: str) -> Response:
        community = selectors.access_community(
            member=request_member(request), tenant=request_tenant(request), slug=slug
        )
        kind = request.query_params.get("kind") or None
        if kind is not None and kind not in TopicKind.values:
            raise InvalidInput("The request is not valid.", code="invalid", details={"kind": ["Unknown kind."]})
        page = selectors.community_topics(
            member=request_member(request),
            tenant=request_tenant(request),
            community=community,
            kind=kind,
            tag_slug=request.query_params.get("tag") or None,
            cursor=request.query_params.get("cursor") or None,
            limit=query_int(request.query_params, "limit", default=TOPICS_PAGE, minimum=1, maximum=MAX_PAGE),
        )
        for topic in page.items:
            topic.community = community  # already loaded: no query per row for its slug
        attach_display_names(page.items, tenant=request_tenant(request))
        return Response({"results": TopicSerializer(page.items, many=True).data, "next_cursor": page.next_cursor})

    @extend_schema(request=TopicCreateSerializer, responses={201: TopicDetailSerializer}, summary="Start a topic")
    def post(self, request: Request, slug: str) -> Response:
        community = selectors.access_community(
            member=request_member(request), tenant=request_tenant(request), slug=slug
        )
        data = _valid(TopicCreateSerializer, request)
        topic = services.create_topic(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            community=community,
            kind=data["kind"],
            title=data["title"],
            body=data["body"],
            tag_ids=data["tag_ids"],
            proposed_tag_names=data["proposed_tags"],
        )
        return Response(_topic_detail(request, topic.pk), status=status.HTTP_201_CREATED)


def _topic_detail(request: Request, topic_id: int) -> dict[str, Any]:
    member, tenant = request_member(request), request_tenant(request)
    topic = selectors.access_topic(member=member, tenant=tenant, topic_id=topic_id)
    posts = selectors.topic_posts(member=member, tenant=tenant, topic=topic)
    attach_display_names([topic, *(view.post for view in posts)], tenant=tenant)
    data = dict(TopicSerializer(topic).data)
    data["posts"] = PostSerializer(posts, many=True, context={"member": member}).data
    return data


class TopicDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=TopicDetailSerializer, summary="A topic and its thread")
    def get(self, request: Request, topic_id: int) -> Response:
        return Response(_topic_detail(request, topic_id))


class TopicWatchView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=WatchSerializer, responses=WatchSerializer, summary="Watch, track or mute a topic")
    def put(self, request: Request, topic_id: int) -> Response:
        topic = selectors.access_topic(
            member=request_member(request), tenant=request_tenant(request), topic_id=topic_id
        )
        data = _valid(WatchSerializer, request)
        subscription = services.set_topic_watch_level(
            member=request_member(request), tenant=request_tenant(request), topic=topic, level=data["level"]
        )
        return Response({"level": subscription.level})


class TopicAnswerView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=AnswerSerializer, responses=TopicSerializer, summary="Mark a reply as the answer (asker)")
    def post(self, request: Request, topic_id: int) -> Response:
        topic = selectors.access_topic(
            member=request_member(request), tenant=request_tenant(request), topic_id=topic_id
        )
        data = _valid(AnswerSerializer, request)
        post = selectors.post_of_topic(topic=topic, post_id=data["post_id"])
        if post is None:
            raise InvalidInput(wording.ANSWER_ELSEWHERE, code="answer_invalid", details={"post_id": ["Unknown."]})
        topic = services.mark_answer(
            acting_member=request_member(request), tenant=request_tenant(request), topic=topic, post=post
        )
        return Response(TopicSerializer(topic).data)


class TopicSearchView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("kind", str, enum=TopicKind.values, required=False),
            OpenApiParameter("tag_kind", str, enum=TagKind.values, required=False),
        ],
        responses=TopicSerializer(many=True),
        summary="Search topics I can read",
    )
    def get(self, request: Request) -> Response:
        topics = selectors.search_topics(
            member=request_member(request),
            tenant=request_tenant(request),
            query=request.query_params.get("q", ""),
            kind=request.query_params.get("kind") or None,
            tag_kind=request.query_params.get("tag_kind") or None,
        )
        attach_display_names(topics, tenant=request_tenant(request))
        return Response(TopicSerializer(topics, many=True).data)


# ---------------------------------------------------------------------------------------------
# Search over every post (the web page's /search/ with the same parameters)
# ---------------------------------------------------------------------------------------------


class SearchPostSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="post.pk", read_only=True)
    is_opening = serializers.BooleanField(source="post.is_opening", read_only=True)
    author_name = serializers.CharField(source="post.author_name", read_only=True)
    created_at = serializers.DateTimeField(source="post.created_at", read_only=True)
    url = serializers.SerializerMethodField()
    snippet_html = serializers.CharField(
        source="snippet",
        read_only=True,
        help_text="An escaped excerpt of the post; matching words are wrapped in <mark>. Safe to insert as HTML.",
    )
    rank = serializers.FloatField(read_only=True)

    def get_url(self, hit: selectors.PostHit) -> str:
        return reverse("topic-detail", kwargs={"topic_id": hit.post.topic_id}) + f"#post-{hit.post.pk}"


class SearchTopicSerializer(serializers.Serializer[Any]):
    topic = TopicSerializer(read_only=True)
    score = serializers.FloatField(read_only=True)
    match_count = serializers.IntegerField(
        read_only=True, help_text="Matching posts in this topic (among those ranked)."
    )
    posts = SearchPostSerializer(many=True, read_only=True, help_text="The best-matching posts, at most three.")


class SearchSynonymUsedSerializer(serializers.Serializer[Any]):
    term = serializers.CharField(read_only=True)
    also = serializers.ListField(child=serializers.CharField(), read_only=True)


class SearchRelaxationSerializer(serializers.Serializer[Any]):
    filter = serializers.CharField(
        read_only=True, help_text="community, kind, status, after, before, author or kind:slug of a tag"
    )
    topics = serializers.IntegerField(
        read_only=True,
        help_text="Topics found without it among the first 300 matching posts, counted up to 100 (100 or more).",
    )


class SearchResultSerializer(serializers.Serializer[Any]):
    query = serializers.CharField(read_only=True)
    sort = serializers.CharField(read_only=True)
    page = serializers.IntegerField(read_only=True)
    has_next = serializers.BooleanField(read_only=True)
    total_topics = serializers.IntegerField(read_only=True)
    capped = serializers.BooleanField(
        read_only=True,
        help_text="True when older matching posts were left out: only the most recent (at most 200) are ranked.",
    )
    suggestion = serializers.CharField(read_only=True, help_text="“Did you mean”: a corrected query, or empty.")
    message = serializers.CharField(read_only=True, help_text="Why nothing was searched, or empty.")
    synonyms = SearchSynonymUsedSerializer(many=True, read_only=True)
    relaxations = SearchRelaxationSerializer(
        many=True, read_only=True, help_text="On zero results: filters whose removal would find something."
    )
    results = SearchTopicSerializer(many=True, read_only=True)


_SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, required=True, description='Words, "exact phrases", OR between words, -word to exclude'),
    OpenApiParameter("community", str, required=False, description="a community's slug"),
    OpenApiParameter("kind", str, enum=TopicKind.values, required=False),
    OpenApiParameter("status", str, enum=list(STATUSES), required=False, description="questions answered or not"),
    OpenApiParameter(
        "tag", str, required=False, many=True, description="slug of a topic tag (repeat: all must be on the topic)"
    ),
    OpenApiParameter("symptom", str, required=False, many=True, description="slug of a symptom tag"),
    OpenApiParameter("treatment", str, required=False, many=True, description="slug of a treatment tag"),
    OpenApiParameter("after", OpenApiTypes.DATE, required=False, description="posts written on or after"),
    OpenApiParameter("before", OpenApiTypes.DATE, required=False, description="posts written on or before"),
    OpenApiParameter("author", OpenApiTypes.UUID, required=False, description="the author's public_id"),
    OpenApiParameter("sort", str, enum=list(SORTS), required=False),
    OpenApiParameter("page", int, required=False, description="1 to 100, ten topics a page"),
]


class SearchView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=_SEARCH_PARAMETERS,
        responses=SearchResultSerializer,
        summary="Search every post I can read: topics with their best-matching posts and snippets",
    )
    def get(self, request: Request) -> Response:
        search_request = search_request_from(request.query_params, kinds=TopicKind.values)
        if search_request.errors:
            raise InvalidInput(
                "Some search parameters are not valid.", code="search_invalid", details=search_request.errors
            )
        result = selectors.search_posts(
            member=request_member(request), tenant=request_tenant(request), request=search_request
        )
        data = {
            "query": search_request.query,
            "sort": search_request.sort,
            "page": search_request.page,
            "has_next": result.has_next,
            "total_topics": result.total_topics,
            "capped": result.capped,
            "suggestion": result.suggestion,
            "message": result.message,
            "synonyms": [{"term": term, "also": list(also)} for term, also in result.parsed.describe_synonyms()],
            "relaxations": [{"filter": name, "topics": count} for name, count in result.relaxations],
            "results": result.topics,
        }
        return Response(SearchResultSerializer(data).data)


class SearchSynonymSerializer(serializers.ModelSerializer[SearchSynonym]):
    terms = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        max_length=50,
        help_text="Two or more words or phrases that search treats as the same.",
    )

    class Meta:
        model = SearchSynonym
        fields = ["id", "terms", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


def _admin_only(request: Request) -> None:
    if not can_administer_tenant(member=request_member(request), tenant=request_tenant(request)):
        raise Http404("Not found.")


class SearchSynonymListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=SearchSynonymSerializer(many=True), summary="This site's search synonyms (admins)")
    def get(self, request: Request) -> Response:
        _admin_only(request)
        return Response(SearchSynonymSerializer(selectors.search_synonym_list(), many=True).data)

    @extend_schema(
        request=SearchSynonymSerializer,
        responses={201: SearchSynonymSerializer},
        summary="Add a synonym group (admins)",
    )
    def post(self, request: Request) -> Response:
        _admin_only(request)
        data = _valid(SearchSynonymSerializer, request)
        synonym = services.create_search_synonym(
            acting_member=request_member(request), tenant=request_tenant(request), terms=data["terms"]
        )
        return Response(SearchSynonymSerializer(synonym).data, status=status.HTTP_201_CREATED)


class SearchSynonymDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def _synonym(self, request: Request, synonym_id: int) -> SearchSynonym:
        _admin_only(request)
        return selectors.access_search_synonym(synonym_id=synonym_id)

    @extend_schema(
        request=SearchSynonymSerializer, responses=SearchSynonymSerializer, summary="Change a synonym group (admins)"
    )
    def put(self, request: Request, synonym_id: int) -> Response:
        synonym = self._synonym(request, synonym_id)
        data = _valid(SearchSynonymSerializer, request)
        synonym = services.update_search_synonym(
            acting_member=request_member(request), tenant=request_tenant(request), synonym=synonym, terms=data["terms"]
        )
        return Response(SearchSynonymSerializer(synonym).data)

    @extend_schema(responses={204: None}, summary="Delete a synonym group (admins)")
    def delete(self, request: Request, synonym_id: int) -> Response:
        synonym = self._synonym(request, synonym_id)
        services.delete_search_synonym(
            acting_member=request_member(request), tenant=request_tenant(request), synonym=synonym
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------------------------
# Posts and reactions
# ---------------------------------------------------------------------------------------------


class TopicPostsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=ReplySerializer, responses={201: PostSerializer}, summary="Reply in a topic")
    def post(self, request: Request, topic_id: int) -> Response:
        member, tenant = request_member(request), request_tenant(request)
        topic = selectors.access_topic(member=member, tenant=tenant, topic_id=topic_id)
        data = _valid(ReplySerializer, request)
        quoted = None
        if data["quoted_post_id"] is not None:
            quoted = selectors.post_of_topic(topic=topic, post_id=data["quoted_post_id"])
            if quoted is None:
                raise InvalidInput(
                    wording.QUOTE_ELSEWHERE,
                    code="quote_invalid",
                    details={"quoted_post_id": ["Unknown."]},
                )
        post = services.create_reply(
            acting_member=member, tenant=tenant, topic=topic, body=data["body"], quoted_post=quoted
        )
        return Response(_post_view(post, member=member), status=status.HTTP_201_CREATED)


class PostDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=PostEditSerializer, responses=PostSerializer, summary="Edit my post")
    def patch(self, request: Request, post_id: int) -> Response:
        post = _readable_post(request, post_id)
        data = _valid(PostEditSerializer, request)
        post = services.edit_post(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            post=post,
            body=data["body"],
            title=data.get("title"),
        )
        return Response(_post_view(post, member=request_member(request)))

    @extend_schema(
        request=ModerationReasonSerializer,
        responses={204: None},
        summary="Remove a post (its author or a moderator; a moderator may give a reason)",
    )
    def delete(self, request: Request, post_id: int) -> Response:
        post = _readable_post(request, post_id)
        reason = _valid(ModerationReasonSerializer, request)["reason"]
        services.delete_post(
            acting_member=request_member(request), tenant=request_tenant(request), post=post, reason=reason
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostRestoreView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=ModerationReasonSerializer, responses=PostSerializer, summary="Restore a removed post (moderators)"
    )
    def post(self, request: Request, post_id: int) -> Response:
        post = _readable_post(request, post_id)
        reason = _valid(ModerationReasonSerializer, request)["reason"]
        post = services.restore_post(
            acting_member=request_member(request), tenant=request_tenant(request), post=post, reason=reason
        )
        return Response(_post_view(post, member=request_member(request)))


class PostReactionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def _result(self, post: Post, kind: str, *, reacted: bool, changed: bool) -> dict[str, Any]:
        post.refresh_from_db(fields=["helpful_count", "same_here_count", "support_count"])
        return {
            "post_id": post.pk,
            "kind": kind,
            "reacted": reacted,
            "changed": changed,
            "reactions": ReactionCountsSerializer(post).data,
        }

    @extend_schema(request=None, responses=ReactionResultSerializer, summary="React to a post (idempotent)")
    def put(self, request: Request, post_id: int, kind: str) -> Response:
        post = _readable_post(request, post_id)
        changed = services.react(member=request_member(request), tenant=request_tenant(request), post=post, kind=kind)
        return Response(self._result(post, kind, reacted=True, changed=changed))

    @extend_schema(request=None, responses={204: None}, summary="Take a reaction back (idempotent)")
    def delete(self, request: Request, post_id: int, kind: str) -> Response:
        post = _readable_post(request, post_id)
        services.unreact(member=request_member(request), tenant=request_tenant(request), post=post, kind=kind)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------------------------
# Feed and notifications
# ---------------------------------------------------------------------------------------------


class FeedView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[CURSOR_PARAMETER, _limit_parameter(FEED_PAGE)],
        responses=FeedPageSerializer,
        summary="My feed (open communities' best topics when signed out)",
    )
    def get(self, request: Request) -> Response:
        member, tenant = request_member(request), request_tenant(request)
        cursor = request.query_params.get("cursor") or None
        limit = query_int(request.query_params, "limit", default=FEED_PAGE, minimum=1, maximum=MAX_PAGE)
        if member.is_authenticated:
            page = feed.feed_for(member=member, tenant=tenant, cursor=cursor, limit=limit)
        else:
            page = feed.anonymous_feed(tenant=tenant, cursor=cursor, limit=limit)
        attach_display_names([item.topic for item in page.items], tenant=tenant)
        return Response({"results": FeedItemSerializer(page.items, many=True).data, "next_cursor": page.next_cursor})


class NotificationListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, required=False, description="1: unread only")],
        responses=NotificationListSerializer,
        summary="My notifications here",
    )
    def get(self, request: Request) -> Response:
        member = request_member(request)
        unread_only = request.query_params.get("unread", "").lower() in {"1", "true", "yes"}
        notifications = selectors.notifications_for(member=member, unread_only=unread_only)
        attach_display_names(notifications, tenant=request_tenant(request), attrs=("actor",))
        return Response(
            {
                "results": NotificationSerializer(notifications, many=True).data,
                "unread_count": selectors.unread_count(member=member),
            }
        )


class NotificationReadView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=MarkReadSerializer, responses=MarkReadResultSerializer, summary="Mark some (or all) notifications read"
    )
    def post(self, request: Request) -> Response:
        member = request_member(request)
        data = _valid(MarkReadSerializer, request)
        marked = services.mark_notifications_read(member=member, notification_ids=data["ids"])
        return Response({"marked": marked, "unread_count": selectors.unread_count(member=member)})


class ModerationLogView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("community", str, required=False, description="a community's slug")],
        responses=ModerationActionSerializer(many=True),
        summary="Moderation decisions: all of them for moderators, those about me for everyone else",
    )
    def get(self, request: Request) -> Response:
        member, tenant = request_member(request), request_tenant(request)
        slug = request.query_params.get("community")
        community = selectors.access_community(member=member, tenant=tenant, slug=slug) if slug else None
        actions = selectors.moderation_log(member=member, tenant=tenant, community=community)
        attach_display_names(actions, tenant=tenant, attrs=("actor", "subject"))
        return Response(ModerationActionSerializer(actions, many=True).data)


class ModerationLogExportView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR},
        summary="The whole moderation log as CSV (tenant administrators)",
    )
    def get(self, request: Request) -> HttpResponse:
        member, tenant = request_member(request), request_tenant(request)
        if not can_administer_tenant(member=member, tenant=tenant):
            raise NotAllowed("Only this site's administrators can export the moderation log.", code="not_admin")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="moderation-log.csv"'
        writer = csv.writer(response)
        writer.writerow(selectors.MODERATION_LOG_COLUMNS)
        writer.writerows(selectors.moderation_log_rows(member=member, tenant=tenant))
        return response


# ---------------------------------------------------------------------------------------------
# Flags and the review queue
# ---------------------------------------------------------------------------------------------


class FlagInputSerializer(serializers.Serializer[Any]):
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    text = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class FlagSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    post_id = serializers.IntegerField(read_only=True)
    reason = serializers.CharField(read_only=True)
    text = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ReviewFlagSerializer(FlagSerializer):
    weight = serializers.IntegerField(read_only=True)


class ReviewItemSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    community = serializers.CharField(source="community.slug", read_only=True)
    status = serializers.CharField(read_only=True)
    held = serializers.BooleanField(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    risk = serializers.CharField(source="get_risk_display", read_only=True)
    escalated = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    decision = serializers.CharField(read_only=True)
    topic_id = serializers.IntegerField(source="post.topic_id", read_only=True)
    topic_title = serializers.CharField(source="post.topic.title", read_only=True)
    post_id = serializers.IntegerField(read_only=True)
    post_status = serializers.CharField(source="post.status", read_only=True)
    body_markdown = serializers.CharField(source="post.body_markdown", read_only=True)
    body_html = serializers.CharField(source="post.body_html", read_only=True)
    author = AuthorSerializer(source="post.author", read_only=True, allow_null=True)
    flags = ReviewFlagSerializer(source="post.flags.all", many=True, read_only=True)


class ReviewDecisionSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=list(Decision.LABELS.items()))
    reason = serializers.CharField(
        max_length=500,
        required=False,
        default="",
        allow_blank=True,
        help_text="Needed to hide, edit, mark, escalate",
    )
    body = serializers.CharField(required=False, default="", allow_blank=True, help_text="The new text (edit)")
    link = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True, help_text="Trusted resource (misinformation)"
    )
    community = serializers.SlugField(required=False, default="", allow_blank=True, help_text="Target (move)")


class TrustLevelRequirementsSerializer(serializers.Serializer[Any]):
    days = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    posts_read = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    posts = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    helpful = serializers.IntegerField(min_value=0, max_value=100_000, required=False)


class TrustRequirementsSerializer(serializers.Serializer[Any]):
    member = TrustLevelRequirementsSerializer(required=False)
    trusted = TrustLevelRequirementsSerializer(required=False)
    leader = TrustLevelRequirementsSerializer(required=False)


class ModerationSettingsSerializer(serializers.Serializer[Any]):
    flag_threshold = serializers.IntegerField(min_value=1, max_value=50)
    trust_requirements = TrustRequirementsSerializer(
        required=False, help_text="What each trust level needs: days here, posts read, posts, helpful reactions"
    )
    new_max_links = serializers.IntegerField(min_value=0, max_value=50, required=False)
    new_max_images = serializers.IntegerField(min_value=0, max_value=50, required=False)
    new_max_mentions = serializers.IntegerField(min_value=0, max_value=50, required=False)
    new_topics_per_day = serializers.IntegerField(min_value=0, max_value=100, required=False)
    trusted_flag_weight = serializers.IntegerField(min_value=1, max_value=50, required=False)
    demote_after_upheld_flags = serializers.IntegerField(
        min_value=0, max_value=100, required=False, help_text="Upheld flags that cost one trust level (0: never)"
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["trust_requirements"] = safety.requirements(instance)
        return dict(data)


class PostFlagView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=FlagInputSerializer, responses={201: FlagSerializer}, summary="Report a post (once per member)"
    )
    def post(self, request: Request, post_id: int) -> Response:
        post = _readable_post(request, post_id)
        data = _valid(FlagInputSerializer, request)
        flag = moderation.flag_post(
            member=request_member(request),
            tenant=request_tenant(request),
            post=post,
            reason=data["reason"],
            text=data["text"],
        )
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class ReviewQueueView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("community", str, required=False, description="a community's slug"),
            OpenApiParameter("reason", str, required=False, description="a flag reason, or 'held'"),
        ],
        responses=ReviewItemSerializer(many=True),
        summary="This tenant's review queue (moderators): urgent first, then oldest",
    )
    def get(self, request: Request) -> Response:
        member, tenant = request_member(request), request_tenant(request)
        _require_moderator(request)
        items = selectors.review_queue(
            member=member,
            tenant=tenant,
            community_slug=request.query_params.get("community") or None,
            reason=request.query_params.get("reason") or None,
        )
        attach_display_names([item.post for item in items], tenant=tenant)
        return Response(ReviewItemSerializer(items, many=True).data)


class ReviewDecisionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=ReviewDecisionSerializer, responses=ReviewItemSerializer, summary="Decide a review item (moderators)"
    )
    def post(self, request: Request, item_id: int) -> Response:
        member, tenant = request_member(request), request_tenant(request)
        try:
            item = moderation.review_item_for_moderator(member=member, tenant=tenant, item_id=item_id)
        except services.CommunityNotFound as error:
            raise Http404(error.message) from error
        data = _valid(ReviewDecisionSerializer, request)
        target = None
        if data["community"]:
            target = selectors.community_by_slug(slug=data["community"])
            if target is None:
                raise InvalidInput("No such community.", code="community_unknown", details={"community": ["Unknown."]})
        decided = moderation.decide(
            acting_member=member,
            tenant=tenant,
            item=item,
            choice=moderation.DecisionInput(
                decision=data["decision"], reason=data["reason"], body=data["body"], link=data["link"], community=target
            ),
        )
        decided = selectors.review_item_with_post(item_id=decided.pk)
        attach_display_names([decided.post], tenant=tenant)
        return Response(ReviewItemSerializer(decided).data)


class ModerationSettingsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=ModerationSettingsSerializer, summary="This tenant's moderation settings (moderators)")
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        return Response(ModerationSettingsSerializer(selectors.moderation_settings()).data)

    @extend_schema(
        request=ModerationSettingsSerializer, responses=ModerationSettingsSerializer, summary="Change them (moderators)"
    )
    def put(self, request: Request) -> Response:
        data = _valid(ModerationSettingsSerializer, request)
        member, tenant = request_member(request), request_tenant(request)
        trust = {name: data[name] for name in moderation.TRUST_SETTING_LIMITS if name in data}
        if trust or "trust_requirements" in data:
            # Validate the trust settings before writing the threshold: a refusal changes nothing.
            with transaction.atomic():
                moderation.update_moderation_settings(
                    acting_member=member, tenant=tenant, flag_threshold=data["flag_threshold"]
                )
                moderation.update_trust_settings(
                    acting_member=member,
                    tenant=tenant,
                    requirements=_merged_requirements(data.get("trust_requirements")),
                    **trust,
                )
        else:
            moderation.update_moderation_settings(
                acting_member=member, tenant=tenant, flag_threshold=data["flag_threshold"]
            )
        return Response(ModerationSettingsSerializer(selectors.moderation_settings()).data)


def _merged_requirements(given: dict[str, Any] | None) -> dict[str, Any] | None:
    """A partial ladder from the API, completed with the tenant's current thresholds."""
    if given is None:
        return None
    current = safety.requirements()
    return {level: {**values, **dict(given.get(level) or {})} for level, values in current.items()}


# ---------------------------------------------------------------------------------------------
# Watched words and link rules
# ---------------------------------------------------------------------------------------------


class WatchedWordSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    pattern = serializers.CharField(max_length=300)
    is_regex = serializers.BooleanField(required=False, default=False, help_text="RE2 syntax")
    action = serializers.ChoiceField(choices=WatchedWordAction.choices)
    replacement = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    message = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    created_at = serializers.DateTimeField(read_only=True)


class PatternTestSerializer(serializers.Serializer[Any]):
    pattern = serializers.CharField(max_length=300)
    is_regex = serializers.BooleanField(required=False, default=False)
    action = serializers.ChoiceField(choices=WatchedWordAction.choices)
    replacement = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    sample = serializers.CharField(max_length=20_000)


class PatternTrialSerializer(serializers.Serializer[Any]):
    matched = serializers.BooleanField()
    outcome = serializers.CharField()
    text = serializers.CharField(help_text="The sample as it would be saved")
    message = serializers.CharField()


class LinkRulesSerializer(serializers.Serializer[Any]):
    new_members_may_link = serializers.BooleanField()
    new_member_posts = serializers.IntegerField(min_value=0, max_value=100)
    link_allowed_domains = serializers.CharField(allow_blank=True, help_text="One domain per line")
    link_denied_domains = serializers.CharField(allow_blank=True, help_text="One domain per line")


class WatchedWordListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=WatchedWordSerializer(many=True), summary="This tenant's watched words (moderators)")
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        return Response(WatchedWordSerializer(selectors.watched_word_list(), many=True).data)

    @extend_schema(
        request=WatchedWordSerializer, responses={201: WatchedWordSerializer}, summary="Watch a word or pattern"
    )
    def post(self, request: Request) -> Response:
        data = _valid(WatchedWordSerializer, request)
        word = moderation.add_watched_word(
            acting_member=request_member(request), tenant=request_tenant(request), **data
        )
        return Response(WatchedWordSerializer(word).data, status=status.HTTP_201_CREATED)


class WatchedWordDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={204: None}, summary="Stop watching a word")
    def delete(self, request: Request, word_id: int) -> Response:
        _require_moderator(request)
        word = selectors.access_watched_word(word_id=word_id)
        moderation.remove_watched_word(acting_member=request_member(request), tenant=request_tenant(request), word=word)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchedWordTestView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=PatternTestSerializer,
        responses=PatternTrialSerializer,
        summary="What a watched word would do to a sample text (saves nothing)",
    )
    def post(self, request: Request) -> Response:
        data = _valid(PatternTestSerializer, request)
        trial = moderation.try_pattern(acting_member=request_member(request), tenant=request_tenant(request), **data)
        return Response(PatternTrialSerializer(trial).data)


class LinkRulesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=LinkRulesSerializer, summary="This tenant's link rules (moderators)")
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        return Response(LinkRulesSerializer(selectors.moderation_settings()).data)

    @extend_schema(request=LinkRulesSerializer, responses=LinkRulesSerializer, summary="Change the link rules")
    def put(self, request: Request) -> Response:
        data = _valid(LinkRulesSerializer, request)
        row = moderation.update_link_rules(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            new_members_may_link=data["new_members_may_link"],
            new_member_posts=data["new_member_posts"],
            allowed_domains=data["link_allowed_domains"],
            denied_domains=data["link_denied_domains"],
        )
        return Response(LinkRulesSerializer(row).data)


class CrisisTermSerializer(serializers.Serializer[Any]):
    phrase = serializers.CharField(max_length=200)
    risk = serializers.ChoiceField(choices=["low", "medium", "high"])


class CrisisSettingsSerializer(serializers.Serializer[Any]):
    resources = serializers.CharField(help_text="Shown to the author of a post in crisis; one per line")
    terms = CrisisTermSerializer(many=True, help_text="The crisis-language list (replaced as a whole)")
    on_call = serializers.ListField(
        child=serializers.UUIDField(), help_text="public_id of the moderators emailed at once about urgent posts"
    )


def _crisis_settings() -> dict[str, Any]:
    return {
        "resources": selectors.moderation_settings().crisis_resources,
        "terms": [
            {"phrase": term.phrase, "risk": term.get_risk_display().lower()} for term in selectors.crisis_terms()
        ],
        "on_call": [on_call.member.public_id for on_call in selectors.on_call_moderators()],
    }


class CrisisSettingsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=CrisisSettingsSerializer, summary="Crisis escalation settings (moderators)")
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        return Response(CrisisSettingsSerializer(_crisis_settings()).data)

    @extend_schema(
        request=CrisisSettingsSerializer, responses=CrisisSettingsSerializer, summary="Change them (moderators)"
    )
    def put(self, request: Request) -> Response:
        data = _valid(CrisisSettingsSerializer, request)
        ids = selectors.member_ids_by_public_id(public_ids=data["on_call"])
        if len(ids) != len(set(data["on_call"])):
            raise InvalidInput("Unknown member.", code="member_unknown", details={"on_call": ["Unknown member."]})
        moderation.update_crisis_settings(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            resources=data["resources"],
            terms=[(term["phrase"], term["risk"]) for term in data["terms"]],
            on_call_member_ids=ids.values(),
        )
        return Response(CrisisSettingsSerializer(_crisis_settings()).data)


# ---------------------------------------------------------------------------------------------
# Clinical-trial discussions
# ---------------------------------------------------------------------------------------------


class TrialDiscussionOpenSerializer(serializers.Serializer[Any]):
    community = serializers.SlugField(help_text="Slug of the community to talk in")


class TrialDiscussionsView(APIView):
    def get_permissions(self) -> list[Any]:
        return [permissions.AllowAny()] if self.request.method == "GET" else [permissions.IsAuthenticated()]

    @extend_schema(responses=TopicSerializer(many=True), summary="This tenant's discussions of a trial")
    def get(self, request: Request, nct_id: str) -> Response:
        topics = selectors.trial_discussions(
            member=request_member(request), tenant=request_tenant(request), nct_id=nct_id
        )
        return Response(TopicSerializer(topics, many=True).data)

    @extend_schema(
        request=TrialDiscussionOpenSerializer,
        responses={200: TopicSerializer, 201: TopicSerializer},
        summary="Open (or find) a community's topic about a trial",
    )
    def post(self, request: Request, nct_id: str) -> Response:
        serializer = TrialDiscussionOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        community = _readable_community(request, serializer.validated_data["community"])
        topic, created = services.open_trial_discussion(
            acting_member=request_member(request), tenant=request_tenant(request), community=community, nct_id=nct_id
        )
        return Response(TopicSerializer(topic).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# ---------------------------------------------------------------------------------------------
# Members: silence, suspend, trust level; moderators; slow mode (communities.safety)
# ---------------------------------------------------------------------------------------------


def _member_here(request: Request, member_id: str) -> Member:
    """A member of this tenant by their id here; 404 for anyone else (ids reveal nothing)."""
    membership = member_by_local_id(tenant=request_tenant(request), local_id=member_id)
    if membership is None:
        raise Http404("No such member.")
    return membership.member


class RestrictionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    member = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=RestrictionKind.choices)
    reason = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, help_text="null: until a moderator lifts it")
    lifted_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(AuthorSerializer)
    def get_member(self, restriction: MemberRestriction) -> dict[str, Any]:
        return dict(AuthorSerializer(restriction.member).data)


class RestrictionInputSerializer(serializers.Serializer[Any]):
    member_id = serializers.CharField(max_length=64, help_text="The member's id on this tenant")
    kind = serializers.ChoiceField(choices=RestrictionKind.choices)
    days = serializers.IntegerField(
        min_value=1, max_value=moderation.RESTRICTION_DAYS_MAX, required=False, allow_null=True, default=None,
        help_text="How long; leave out (suspensions only) for until lifted",
    )  # fmt: skip
    reason = serializers.CharField(max_length=500, help_text="Shown to the member")


class RestrictionListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=RestrictionSerializer(many=True), summary="Silenced and suspended members now (moderators)"
    )
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        rows = safety.current_restrictions(limit=500)
        return Response(RestrictionSerializer(rows, many=True).data)

    @extend_schema(
        request=RestrictionInputSerializer,
        responses={201: RestrictionSerializer},
        summary="Silence or suspend a member of this tenant (moderators)",
    )
    def post(self, request: Request) -> Response:
        _require_moderator(request)
        data = _valid(RestrictionInputSerializer, request)
        member = _member_here(request, data["member_id"])
        restriction = moderation.restrict_member(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=member,
            kind=data["kind"],
            reason=data["reason"],
            days=data["days"],
        )
        return Response(RestrictionSerializer(restriction).data, status=status.HTTP_201_CREATED)


class RestrictionDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=RestrictionSerializer, summary="Lift a silence or suspension (moderators)")
    def delete(self, request: Request, restriction_id: int) -> Response:
        try:
            restriction = moderation.restriction_for_moderator(
                member=request_member(request), tenant=request_tenant(request), restriction_id=restriction_id
            )
        except services.CommunityNotFound as error:
            raise Http404(error.message) from error
        lifted = moderation.lift_restriction(
            acting_member=request_member(request), tenant=request_tenant(request), restriction=restriction
        )
        return Response(RestrictionSerializer(lifted).data)


class TrustSerializer(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=safety.TRUST_LEVEL_NAMES)
    locked = serializers.BooleanField(help_text="Set by a moderator: the rules don't move it")
    posts_read = serializers.IntegerField()
    days = serializers.IntegerField()
    posts = serializers.IntegerField()
    helpful = serializers.IntegerField()
    upheld_flags = serializers.IntegerField()


class TrustInputSerializer(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=safety.TRUST_LEVEL_NAMES)
    locked = serializers.BooleanField(required=False, default=True, help_text="false: the rules decide again")
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


def _trust_data(member: Member, tenant: Tenant) -> dict[str, Any]:
    row = selectors.trust_of(member=member)
    activity = safety.activity_of(member=member, tenant=tenant)
    names = {value: name for name, value in safety.LEVEL_NAMES.items()}
    return {
        "level": names[TrustLevel(row.level if row else TrustLevel.NEW)],
        "locked": bool(row and row.locked),
        "posts_read": activity.posts_read,
        "days": activity.days,
        "posts": activity.posts,
        "helpful": activity.helpful,
        "upheld_flags": activity.upheld_flags,
    }


class MemberTrustView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=TrustSerializer, summary="A member's trust level and the numbers behind it (moderators)")
    def get(self, request: Request, member_id: str) -> Response:
        _require_moderator(request)
        return Response(TrustSerializer(_trust_data(_member_here(request, member_id), request_tenant(request))).data)

    @extend_schema(
        request=TrustInputSerializer, responses=TrustSerializer, summary="Set a member's trust level (moderators)"
    )
    def put(self, request: Request, member_id: str) -> Response:
        _require_moderator(request)
        member = _member_here(request, member_id)
        data = _valid(TrustInputSerializer, request)
        moderation.set_trust_level(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=member,
            level=data["level"],
            locked=data["locked"],
            reason=data["reason"],
        )
        return Response(TrustSerializer(_trust_data(member, request_tenant(request))).data)


class SlowModeSerializer(serializers.Serializer[Any]):
    minutes = serializers.IntegerField(
        min_value=0,
        max_value=moderation.SLOW_MODE_MAX_MINUTES,
        help_text="One post per member per this many minutes; 0: off",
    )
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class TopicSlowModeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=SlowModeSerializer, responses=SlowModeSerializer, summary="Set a topic's slow mode (moderators)"
    )
    def put(self, request: Request, topic_id: int) -> Response:
        _require_moderator(request)
        topic = selectors.access_topic(
            member=request_member(request), tenant=request_tenant(request), topic_id=topic_id
        )
        data = _valid(SlowModeSerializer, request)
        topic = moderation.set_slow_mode(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            topic=topic,
            minutes=data["minutes"],
            reason=data["reason"],
        )
        return Response({"minutes": topic.slow_mode_minutes, "reason": data["reason"]})


class ModeratorSerializer(serializers.Serializer[Any]):
    member = AuthorSerializer()
    role = serializers.CharField()


class ModeratorInputSerializer(serializers.Serializer[Any]):
    member_id = serializers.CharField(max_length=64, help_text="The member's id on this tenant")
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


def _moderator_rows(tenant: Tenant) -> list[dict[str, Any]]:
    rows = selectors.moderator_memberships(tenant=tenant)
    return [{"member": row.member, "role": row.role} for row in rows]


class ModeratorListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=ModeratorSerializer(many=True), summary="This tenant's moderators and administrators (admins)"
    )
    def get(self, request: Request) -> Response:
        if not can_administer_tenant(member=request_member(request), tenant=request_tenant(request)):
            raise NotAllowed("Only this site's administrators can do that.", code="not_admin")
        return Response(ModeratorSerializer(_moderator_rows(request_tenant(request)), many=True).data)

    @extend_schema(
        request=ModeratorInputSerializer,
        responses={201: ModeratorSerializer(many=True)},
        summary="Add a moderator (admins)",
    )
    def post(self, request: Request) -> Response:
        if not can_administer_tenant(member=request_member(request), tenant=request_tenant(request)):
            raise NotAllowed("Only this site's administrators can do that.", code="not_admin")
        data = _valid(ModeratorInputSerializer, request)
        moderation.set_moderator(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=_member_here(request, data["member_id"]),
            moderator=True,
            reason=data["reason"],
        )
        return Response(ModeratorSerializer(_moderator_rows(request_tenant(request)), many=True).data, status=201)


class ModeratorDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, summary="Remove a moderator: a member again (admins)")
    def delete(self, request: Request, member_id: str) -> Response:
        if not can_administer_tenant(member=request_member(request), tenant=request_tenant(request)):
            raise NotAllowed("Only this site's administrators can do that.", code="not_admin")
        moderation.set_moderator(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=_member_here(request, member_id),
            moderator=False,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
