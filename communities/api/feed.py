"""Communities API: the feed, notifications and the moderation log."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import feed, selectors, services
from communities.api.common import CURSOR_PARAMETER, FEED_PAGE, MAX_PAGE, _limit_parameter
from communities.api.serializers import (
    FeedItemSerializer,
    FeedPageSerializer,
    MarkReadResultSerializer,
    MarkReadSerializer,
    ModerationActionSerializer,
    NotificationListSerializer,
    NotificationSerializer,
    _valid,
)
from core.api import query_int
from core.errors import NotAllowed
from members.requests import request_member
from members.selectors import (
    attach_display_names,
    can_administer_tenant,
)
from tenants.requests import request_tenant


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
