"""Communities API: tags."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import selectors, services
from communities.api.common import _readable_community, _readable_tag
from communities.api.serializers import TagInputSerializer, TagMergeSerializer, TagSerializer, _valid
from communities.permissions import can_moderate
from core.errors import InvalidInput
from members.requests import request_member
from tenants.requests import request_tenant


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
