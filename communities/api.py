from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities.models import Community
from communities.selectors import access_community, visible_communities


class CommunitySerializer(serializers.ModelSerializer[Community]):
    conditions: serializers.RelatedField[Any, Any, Any] = serializers.SlugRelatedField(
        slug_field="mesh_id", many=True, read_only=True
    )

    class Meta:
        model = Community
        fields = ["slug", "name", "description", "visibility", "conditions", "created_at"]


class CommunityListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=CommunitySerializer(many=True), summary="Communities I can read here")
    def get(self, request: Request) -> Response:
        communities = visible_communities(member=request.user, tenant=request.tenant).prefetch_related("conditions")  # type: ignore[arg-type, attr-defined]
        return Response(CommunitySerializer(communities, many=True).data)


class CommunityDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=CommunitySerializer, summary="One community")
    def get(self, request: Request, slug: str) -> Response:
        community = access_community(member=request.user, tenant=request.tenant, slug=slug)  # type: ignore[arg-type, attr-defined]
        return Response(CommunitySerializer(community).data)
