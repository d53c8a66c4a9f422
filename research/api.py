"""Staff-only research export API (root domain)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from research.exporters import exporter


class DatasetRowSerializer(serializers.Serializer[dict[str, Any]]):
    pseudonym = serializers.UUIDField()
    birth_year_band = serializers.CharField()
    country = serializers.CharField()
    conditions = serializers.ListField(child=serializers.CharField())


class DatasetQuerySerializer(serializers.Serializer[dict[str, Any]]):
    export = serializers.CharField(required=False, default="deidentified-members")
    purpose = serializers.SlugField(required=False, default="research-data-sharing")
    at = serializers.DateTimeField(required=False, default=None)


class ResearchDatasetView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        parameters=[
            OpenApiParameter("export", str, description="Registered exporter name"),
            OpenApiParameter("purpose", str, description="Consent purpose code"),
            OpenApiParameter("at", str, description="ISO date-time the consent is judged at (default: now)"),
        ],
        responses=DatasetRowSerializer(many=True),
        summary="De-identified research dataset (platform staff; consenting members only)",
    )
    def get(self, request: Request) -> Response:
        query = DatasetQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = exporter(data["export"])(purpose_code=data["purpose"], at=data["at"])
        return Response(rows)
