"""Research API (root domain): named staff define exports; named staff who are also an agreement's named
recipients pull the quick dataset under it; an agreement's named recipients list their releases and get
expiring download links; members list the releases (pulls included) that included their data."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conditions.models import Condition
from partnerships.models import PartnershipAgreement
from research import selectors, services
from research.exporters import exporter
from research.models import DEFAULT_K, MIN_K, Dataset, ResearchExport
from research.services import FILE_NAMES
from tenants.models import Tenant


class DatasetRowSerializer(serializers.Serializer[dict[str, Any]]):
    member_id = serializers.CharField(help_text="Pseudonym under the agreement's secret (as in its releases).")
    age_band = serializers.CharField()
    sex = serializers.CharField()
    region = serializers.CharField()
    conditions = serializers.CharField(help_text="Semicolon-separated MeSH ids (generalized as the release says).")
    role = serializers.CharField()


class DatasetPullSerializer(serializers.Serializer[Any]):
    release = serializers.UUIDField(source="export.public_id")
    agreement = serializers.UUIDField(source="export.agreement.public_id")
    k = serializers.IntegerField(source="export.k")
    consent_judged_at = serializers.DateTimeField(source="export.consent_at")
    counts = serializers.JSONField(source="export.manifest.counts")
    rows = DatasetRowSerializer(many=True)


class DatasetQuerySerializer(serializers.Serializer[dict[str, Any]]):
    agreement = serializers.UUIDField(required=False, default=None)
    export = serializers.CharField(required=False, default="deidentified-members")
    at = serializers.DateTimeField(required=False, default=None)
    k = serializers.IntegerField(required=False, default=DEFAULT_K, min_value=MIN_K, max_value=1000)


class ResearchDatasetView(APIView):
    """The quick pull: a member-attributes release under one agreement, built now and returned.

    For named research staff who are also the agreement's named recipients. Consent (fixed purpose:
    de-identified data sharing) is judged now; ``at`` only narrows it (consenting then AND now).
    """

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("agreement", OpenApiTypes.UUID, required=True, description="The research agreement"),
            OpenApiParameter("export", str, description="Registered exporter name (deidentified-members)"),
            OpenApiParameter(
                "at",
                OpenApiTypes.DATETIME,
                description="Also require consent at this past moment (consent is always judged now as well)",
            ),
            OpenApiParameter("k", int, description=f"k-anonymity (from {MIN_K}, default {DEFAULT_K})"),
        ],
        responses=DatasetPullSerializer,
        summary="Quick de-identified dataset (named staff who are the agreement's recipients; consenting now)",
    )
    def get(self, request: Request) -> Response:
        query = DatasetQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        export, rows = services.pull_dataset(
            actor=request.user,
            channel="api",
            agreement_id=data["agreement"],
            exporter_fn=exporter(data["export"]),
            at=data["at"],
            k=data["k"],
        )
        return Response(DatasetPullSerializer({"export": export, "rows": rows}).data)


class ResearchExportFileSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    download_url = serializers.CharField(allow_null=True, help_text="Recipients only; expires.")


class ResearchExportSerializer(serializers.ModelSerializer[ResearchExport]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    agreement = serializers.UUIDField(source="agreement.public_id", read_only=True)
    partner = serializers.CharField(source="agreement.partner.name", read_only=True)
    tenants = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()

    class Meta:
        model = ResearchExport
        fields = ["id", "agreement", "partner", "kind", "title", "tenants", "community_slugs", "date_from", "date_to",
                  "datasets", "k", "status", "progress", "progress_note", "manifest", "error", "created_at",
                  "finished_at", "files"]  # fmt: skip
        read_only_fields = fields

    def get_tenants(self, export: ResearchExport) -> list[str]:
        return sorted(t.slug for t in export.tenants.all())

    @extend_schema_field(ResearchExportFileSerializer(many=True))
    def get_files(self, export: ResearchExport) -> list[dict[str, Any]]:
        request = self.context["request"]
        recipient = selectors.is_recipient(request.user, export.agreement)
        files = []
        for file in sorted(export.files.all(), key=lambda f: FILE_NAMES.index(f.name)):
            url = None
            if recipient and export.status == "ready":
                token = services.issue_download_link(member=request.user, export=export, name=file.name, channel="api")
                url = request.build_absolute_uri(reverse("research-download", args=[token]))
            files.append({"name": file.name, "sha256": file.sha256, "size": file.size, "download_url": url})
        return files


class ResearchExportCreateSerializer(serializers.Serializer[Any]):
    agreement = serializers.SlugRelatedField(slug_field="public_id", queryset=PartnershipAgreement.objects.all())
    title = serializers.CharField(max_length=200, required=False, default="")
    tenants = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Tenant.objects.partners())
    communities = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    conditions = serializers.SlugRelatedField(
        slug_field="mesh_id", many=True, queryset=Condition.objects.all(), required=False, default=list
    )
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    datasets = serializers.ListField(child=serializers.ChoiceField(choices=Dataset.choices), allow_empty=False)
    k = serializers.IntegerField(required=False, default=DEFAULT_K, min_value=5, max_value=1000)


class ExportListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=ResearchExportSerializer(many=True), summary="Research exports (named staff: all; recipients: theirs)"
    )
    def get(self, request: Request) -> Response:
        exports = selectors.exports_visible_to(member=request.user)[:200]
        return Response(ResearchExportSerializer(exports, many=True, context={"request": request}).data)

    @extend_schema(
        request=ResearchExportCreateSerializer,
        responses={201: ResearchExportSerializer},
        summary="Define and run a research export (named staff; bounded by the agreement's scope)",
    )
    def post(self, request: Request) -> Response:
        serializer = ResearchExportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        export = services.define_export(
            actor=request.user,
            channel="api",
            agreement=data["agreement"],
            title=data["title"],
            tenant_ids=[t.pk for t in data["tenants"]],
            community_slugs=data["communities"],
            condition_ids=[c.pk for c in data["conditions"]],
            date_from=data["date_from"],
            date_to=data["date_to"],
            datasets=data["datasets"],
            k=data["k"],
        )
        export.refresh_from_db()
        return Response(
            ResearchExportSerializer(export, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ExportDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=ResearchExportSerializer, summary="One research export: progress, manifest, files")
    def get(self, request: Request, public_id: str) -> Response:
        export = selectors.release_for(member=request.user, public_id=public_id)
        if export is None:
            raise Http404
        return Response(ResearchExportSerializer(export, context={"request": request}).data)


class ResearchReleaseSerializer(serializers.Serializer[Any]):
    release = serializers.UUIDField()
    title = serializers.CharField()
    partner = serializers.CharField()
    released_at = serializers.DateTimeField()
    posts = serializers.IntegerField(help_text="How many of my posts it holds (scrubbed).")
    datasets = serializers.ListField(child=serializers.CharField())


class MyReleasesView(APIView):
    @extend_schema(responses=ResearchReleaseSerializer(many=True), summary="Research releases that included my data")
    def get(self, request: Request) -> Response:
        return Response(ResearchReleaseSerializer(selectors.releases_including(member=request.user), many=True).data)
