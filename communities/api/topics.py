"""Communities API: topics."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import selectors, services, wording
from communities.api.common import CURSOR_PARAMETER, MAX_PAGE, TOPICS_PAGE, _limit_parameter
from communities.api.serializers import (
    AnswerSerializer,
    PostSerializer,
    TopicCreateSerializer,
    TopicDetailSerializer,
    TopicPageSerializer,
    TopicSerializer,
    WatchSerializer,
    _valid,
)
from communities.models import (
    TagKind,
    TopicKind,
)
from core.api import query_int
from core.errors import InvalidInput
from members.requests import request_member
from members.selectors import attach_display_names
from tenants.requests import request_tenant


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
