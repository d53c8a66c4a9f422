"""Partner directory (anyone) and tenant provisioning (platform staff) on the root domain."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.models import Tenant
from tenants.selectors import partner_tenants, tenant_url
from tenants.services import provision_tenant


class PartnerSerializer(serializers.ModelSerializer[Tenant]):
    url = serializers.SerializerMethodField()
    domains: serializers.RelatedField[Any, Any, Any] = serializers.SlugRelatedField(
        slug_field="domain", many=True, read_only=True
    )

    class Meta:
        model = Tenant
        fields = ["slug", "name", "tagline", "url", "domains", "created_at"]

    def get_url(self, tenant: Tenant) -> str:
        return tenant_url(tenant=tenant, request=self.context.get("request"))


class ProvisionSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(max_length=63)
    domain = serializers.CharField(max_length=253)
    tagline = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class IsPlatformSuperuser(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_superuser)


class PartnerListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=PartnerSerializer(many=True), summary="Every partner community on the platform")
    def get(self, request: Request) -> Response:
        return Response(PartnerSerializer(partner_tenants(), many=True, context={"request": request}).data)


class TenantProvisionView(APIView):
    permission_classes = [IsPlatformSuperuser]

    @extend_schema(request=ProvisionSerializer, responses={201: PartnerSerializer}, summary="Provision a tenant")
    def post(self, request: Request) -> Response:
        serializer = ProvisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = provision_tenant(**serializer.validated_data)
        code = status.HTTP_201_CREATED if report.created else status.HTTP_200_OK
        return Response(PartnerSerializer(report.tenant, context={"request": request}).data, status=code)
