"""Privacy API: settings, my name per tenant, exports, account deletion, the staff-access log,
and the staff read of a member's data (a reason is required and logged)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members import selectors as member_selectors
from members import services as member_services
from members.models import EmailNotifications, Member
from members.passwords import MAX_PASSWORD_LENGTH
from members.requests import request_member
from privacy import selectors, services
from privacy.models import DataExport, ErasureRequest, ExportStatus, StaffAccess
from privacy.providers import export_member, export_privacy
from tenants.requests import request_tenant
from tenants.selectors import root_path


class PrivacySettingsSerializer(serializers.Serializer[Member]):
    show_conditions = serializers.BooleanField(required=False)
    show_location = serializers.BooleanField(required=False)
    show_role = serializers.BooleanField(required=False)
    listed_in_member_lists = serializers.BooleanField(required=False)
    email_notifications = serializers.ChoiceField(choices=EmailNotifications.choices, required=False)


class TenantNameSerializer(serializers.Serializer[Any]):
    tenant = serializers.CharField(read_only=True)
    display_name = serializers.CharField(max_length=80, allow_blank=True, help_text="Blank: my platform name.")
    shown_as = serializers.CharField(read_only=True, help_text="The name others see on this tenant.")


class ExportSerializer(serializers.ModelSerializer[DataExport]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    download_url = serializers.SerializerMethodField(help_text="A signed link for you only, until expires_at.")

    class Meta:
        model = DataExport
        fields = ["id", "status", "progress", "file_size", "created_at", "finished_at", "expires_at",
                  "downloaded_at", "download_url"]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, export: DataExport) -> str | None:
        if export.status != ExportStatus.READY:
            return None
        return root_path("privacy-export-download", kwargs={"token": services.make_download_token(export=export)})


class StaffAccessSerializer(serializers.ModelSerializer[StaffAccess]):
    staff = serializers.CharField(source="staff_name", read_only=True)

    class Meta:
        model = StaffAccess
        fields = ["staff", "what", "reason", "accessed_at"]
        read_only_fields = fields


class ErasureRequestInputSerializer(serializers.Serializer[Any]):
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, max_length=MAX_PASSWORD_LENGTH)
    keep_posts = serializers.BooleanField(help_text="Keep my posts as 'A former member' (else '[removed]').")


class ErasureSerializer(serializers.ModelSerializer[ErasureRequest]):
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = ErasureRequest
        fields = ["status", "progress", "keep_posts", "created_at", "finished_at", "status_url"]
        read_only_fields = fields

    def get_status_url(self, erasure: ErasureRequest) -> str:
        return root_path("erasure-status", kwargs={"token": services.make_erasure_status_token(request=erasure)})


class PrivacySettingsView(APIView):
    @extend_schema(responses=PrivacySettingsSerializer, summary="My privacy settings")
    def get(self, request: Request) -> Response:
        return Response(PrivacySettingsSerializer(request_member(request)).data)

    @extend_schema(request=PrivacySettingsSerializer, responses=PrivacySettingsSerializer, summary="Change them")
    def patch(self, request: Request) -> Response:
        serializer = PrivacySettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        member = member_services.update_privacy_settings(member=request_member(request), **serializer.validated_data)
        return Response(PrivacySettingsSerializer(member).data)


class TenantNameView(APIView):
    """Tenant hosts: my name on this tenant (a pseudonym other tenants never see)."""

    def _data(self, request: Request) -> dict[str, Any]:
        tenant = request_tenant(request)
        membership = member_selectors.membership_of(member=request_member(request), tenant=tenant)
        if membership is None:
            raise Http404
        return {
            "tenant": tenant.slug,
            "display_name": membership.display_name,
            "shown_as": member_selectors.tenant_name_of(member=request_member(request), tenant=tenant),
        }

    @extend_schema(responses=TenantNameSerializer, summary="My name on this community site")
    def get(self, request: Request) -> Response:
        return Response(TenantNameSerializer(self._data(request)).data)

    @extend_schema(request=TenantNameSerializer, responses=TenantNameSerializer, summary="Set my name here")
    def put(self, request: Request) -> Response:
        serializer = TenantNameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member_services.set_tenant_display_name(
            member=request_member(request),
            tenant=request_tenant(request),
            display_name=serializer.validated_data["display_name"],
        )
        return Response(TenantNameSerializer(self._data(request)).data)


class ExportListView(APIView):
    @extend_schema(responses=ExportSerializer(many=True), summary="My data exports")
    def get(self, request: Request) -> Response:
        return Response(ExportSerializer(selectors.exports_for(member=request_member(request))[:20], many=True).data)

    @extend_schema(request=None, responses={202: ExportSerializer}, summary="Prepare a ZIP of all my data")
    def post(self, request: Request) -> Response:
        export = services.request_export(member=request_member(request))
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(APIView):
    @extend_schema(responses=ExportSerializer, summary="Progress of one export (and its link when ready)")
    def get(self, request: Request, public_id: str) -> Response:
        export = selectors.export_of(member=request_member(request), public_id=public_id)
        if export is None:
            raise Http404
        return Response(ExportSerializer(export).data)


class ErasureView(APIView):
    @extend_schema(
        request=ErasureRequestInputSerializer,
        responses={202: ErasureSerializer},
        summary="Delete my account (confirm with my password)",
    )
    def post(self, request: Request) -> Response:
        serializer = ErasureRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        erasure = services.request_erasure(member=request_member(request), **serializer.validated_data)
        logout(request._request)
        return Response(ErasureSerializer(erasure).data, status=status.HTTP_202_ACCEPTED)


class MyStaffAccessView(APIView):
    @extend_schema(responses=StaffAccessSerializer(many=True), summary="Who from staff accessed my data")
    def get(self, request: Request) -> Response:
        accesses = selectors.staff_access_for(member=request_member(request))[:200]
        return Response(StaffAccessSerializer(accesses, many=True).data)


class IsPlatformStaff(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class StaffMemberDataView(APIView):
    """Platform staff read a member's account data; the reason is required and shown to the member."""

    permission_classes = [IsPlatformStaff]

    @extend_schema(
        parameters=[OpenApiParameter("reason", str, required=True, description="Why you need this member's data")],
        responses=inline_serializer(
            "StaffMemberData", fields={"account": serializers.DictField(), "privacy": serializers.DictField()}
        ),
        summary="A member's account data (staff; logged and visible to the member)",
    )
    def get(self, request: Request, public_id: str) -> Response:
        member = Member.objects.filter(public_id=public_id).first()
        if member is None:
            raise Http404
        services.record_staff_access(
            staff=request_member(request),
            member=member,
            reason=request.query_params.get("reason", ""),
            what="account (API)",
        )
        return Response(
            {"account": services.jsonable(export_member(member)), "privacy": services.jsonable(export_privacy(member))}
        )


class ProfileSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(read_only=True, help_text="The member's id on this site (differs on every other).")
    display_name = serializers.CharField(read_only=True)
    joined_at = serializers.DateTimeField(read_only=True)
    role = serializers.CharField(read_only=True, required=False, help_text="Only if the member shows it.")
    conditions = serializers.ListField(child=serializers.CharField(), read_only=True, required=False)
    location = serializers.CharField(read_only=True, required=False)


def _require_tenant_member(request: Request) -> None:
    member = request_member(request)
    tenant = request_tenant(request)
    if member_selectors.membership_of(member=member, tenant=tenant) is None and not member.is_superuser:
        raise Http404


class ProfileListView(APIView):
    @extend_schema(responses=ProfileSerializer(many=True), summary="Members of this site who chose to be listed")
    def get(self, request: Request) -> Response:
        _require_tenant_member(request)
        memberships = member_selectors.listed_members(tenant=request_tenant(request))[:500]
        rows = [
            {
                "id": m.local_id or member_selectors.local_id_of(m.member, tenant=request_tenant(request)),
                "display_name": m.display_name or m.member.display_name or member_selectors.FALLBACK_NAME,
                "joined_at": m.joined_at,
            }
            for m in memberships
        ]
        return Response(ProfileSerializer(rows, many=True).data)


class ProfileDetailView(APIView):
    @extend_schema(responses=ProfileSerializer, summary="A listed member's profile: only what they chose to show")
    def get(self, request: Request, member_id: str) -> Response:
        _require_tenant_member(request)
        membership = member_selectors.profile_in_tenant(tenant=request_tenant(request), local_id=member_id)
        if membership is None:
            raise Http404
        return Response(ProfileSerializer(member_selectors.visible_profile(membership=membership)).data)
