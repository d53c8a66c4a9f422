"""Communities API: communities, membership, join requests, watching."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import selectors, services
from communities.api.common import _require_moderator
from communities.api.serializers import (
    CommunityCreateSerializer,
    CommunityMembershipSerializer,
    CommunitySerializer,
    CommunityUpdateSerializer,
    JoinDecisionSerializer,
    WatchSerializer,
    _valid,
)
from members.requests import request_member
from members.selectors import attach_display_names
from tenants.requests import request_tenant


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
