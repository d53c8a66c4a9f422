"""The community directory in the root domain's API: anyone may search it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conditions.models import Condition
from directory.models import DirectoryEntry
from directory.selectors import MAX_LIMIT, entry_url, search_directory


class DirectoryConditionSerializer(serializers.ModelSerializer[Condition]):
    class Meta:
        model = Condition
        fields = ["id", "mesh_id", "name"]


class DirectoryEntrySerializer(serializers.ModelSerializer[DirectoryEntry]):
    """Only what the partner made public: no rules, members, counts or topics exist here to leak."""

    slug = serializers.CharField(source="community_slug")
    partner = serializers.SerializerMethodField()
    conditions = DirectoryConditionSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = DirectoryEntry
        fields = ["slug", "name", "description", "visibility", "conditions", "partner", "url", "updated_at"]

    def get_partner(self, entry: DirectoryEntry) -> dict[str, str]:
        return {"slug": entry.tenant.slug, "name": entry.tenant.name}

    def get_url(self, entry: DirectoryEntry) -> str:
        return entry_url(entry=entry, request=self.context.get("request"))


class DirectoryQuerySerializer(serializers.Serializer[dict[str, Any]]):
    q = serializers.CharField(required=False, default="", allow_blank=True, max_length=200, trim_whitespace=True)
    condition = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=MAX_LIMIT)


class DirectorySearchView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Condition name, synonym or MeSH id, or words of a community"),
            OpenApiParameter("condition", int, many=True, description="Condition ids (their descendants count)"),
            OpenApiParameter("limit", int, description=f"At most {MAX_LIMIT}"),
        ],
        responses=DirectoryEntrySerializer(many=True),
        summary="Search every partner's communities",
    )
    def get(self, request: Request) -> Response:
        params = DirectoryQuerySerializer(
            data={
                "q": request.query_params.get("q", ""),
                "condition": request.query_params.getlist("condition"),
                "limit": request.query_params.get("limit", 50),
            }
        )
        params.is_valid(raise_exception=True)
        entries = search_directory(
            query=params.validated_data["q"],
            condition_ids=params.validated_data.get("condition") or None,
            limit=params.validated_data["limit"],
        )
        return Response(DirectoryEntrySerializer(entries, many=True, context={"request": request}).data)
