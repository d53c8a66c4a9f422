"""Communities API: posts and reactions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import selectors, services, wording
from communities.api.common import _readable_post
from communities.api.serializers import (
    ModerationReasonSerializer,
    PostEditSerializer,
    PostSerializer,
    ReactionCountsSerializer,
    ReactionResultSerializer,
    ReplySerializer,
    _post_view,
    _valid,
)
from communities.models import Post
from core.errors import InvalidInput
from members.requests import request_member
from tenants.requests import request_tenant


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
