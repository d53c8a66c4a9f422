"""Communities API: clinical-trial discussions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import selectors, services
from communities.api.common import _readable_community
from communities.api.serializers import TopicSerializer
from members.requests import request_member
from tenants.requests import request_tenant


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
