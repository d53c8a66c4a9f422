"""Member identity API (root domain) and membership API (tenant hosts)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.forms import ResetPasswordForm
from allauth.core import ratelimit
from django.db import connection
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import details_as_sent
from core.errors import NotAllowed
from members import selectors, services
from members.models import EmailNotifications, Member, MemberRole, MembershipRole, Sex, TenantMembership
from members.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from members.requests import request_member
from members.sessions import keep_session_after_password_change
from tenants.models import Tenant
from tenants.requests import request_tenant


class MembershipSerializer(serializers.ModelSerializer[TenantMembership]):
    tenant: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    tenant_name = serializers.CharField(source="tenant.name", read_only=True)

    class Meta:
        model = TenantMembership
        fields = ["tenant", "tenant_name", "role", "joined_at"]


class BirthYearField(serializers.IntegerField):
    """The range moves with the calendar: DRF copies declared fields for each serializer, so the
    bounds are this year's whenever a request (or the schema) is made."""

    def __init__(self, **kwargs: Any) -> None:
        this_year = timezone.now().year
        super().__init__(min_value=this_year - services.MAX_AGE_YEARS, max_value=this_year, **kwargs)


def _password_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        write_only=True, style={"input_type": "password"}, max_length=MAX_PASSWORD_LENGTH, **kwargs
    )


class MemberSerializer(serializers.ModelSerializer[Member]):
    conditions: serializers.RelatedField[Any, Any, Any] = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    role = serializers.ChoiceField(
        choices=MemberRole.choices, allow_blank=True, read_only=True, help_text="Empty when the member has not said."
    )
    memberships = MembershipSerializer(many=True, read_only=True)
    country = serializers.CharField(read_only=True)

    class Meta:
        model = Member
        fields = [
            "public_id", "email", "display_name", "role", "conditions", "birth_year", "country", "region",
            "email_verified", "email_notifications", "memberships",
        ]  # fmt: skip
        read_only_fields = fields


class SignUpSerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField()
    password = _password_field(min_length=MIN_PASSWORD_LENGTH)
    display_name = serializers.CharField(max_length=80, required=False, default="", allow_blank=True)
    role = serializers.ChoiceField(choices=MemberRole.choices, required=False, default="", allow_blank=True)
    conditions = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, source="condition_ids"
    )
    birth_year = BirthYearField(required=False, allow_null=True, default=None)
    country = serializers.CharField(max_length=2, required=False, default="", allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    tenant = serializers.SlugField(required=False, default="", allow_blank=True, help_text="Partner slug to join")
    consents = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        default=list,
        help_text="Codes of the consent purposes the member actively agrees to (none by default)",
    )


class ProfileUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=MemberRole.choices, required=False, allow_blank=True)
    condition_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    birth_year = BirthYearField(required=False, allow_null=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email_notifications = serializers.ChoiceField(choices=EmailNotifications.choices, required=False)
    sex = serializers.ChoiceField(
        choices=Sex.choices, required=False, allow_blank=True, help_text="Optional: trial hints"
    )


class AcceptedSerializer(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField()


SIGNUP_ACCEPTED = "Check your email: if the address needs confirming, we have sent it a link."
RESET_ACCEPTED = "If that address has a Kindred account, we have sent it a link to choose a new password."


class SignUpView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=SignUpSerializer,
        responses={202: AcceptedSerializer},
        summary="Create an account",
        description="Answers the same whether or not the address already has an account (its owner is "
        "emailed instead), so the API never tells whether someone is registered.",
    )
    def post(self, request: Request) -> Response:
        serializer = SignUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        signup_tenant = selectors.signup_partner(slug=data.pop("tenant"))
        consents = data.pop("consents")
        services.sign_up(**data, signup_tenant=signup_tenant, step_data={"consents": consents}, channel="api")
        return Response({"detail": SIGNUP_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetRequestSerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField()


class PasswordResetRequestView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=PasswordResetRequestSerializer,
        responses={202: AcceptedSerializer, 429: None},
        summary="Email a password reset link",
        description="The same answer whether or not the address has an account. The link opens the web page "
        "where the new password is chosen; it works once, for PASSWORD_RESET_TIMEOUT seconds.",
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"].lower()
        if not ratelimit.consume(request._request, action="reset_password", key=email):
            raise Throttled(detail="Too many reset requests. Please wait a minute and try again.")
        form = ResetPasswordForm(data={"email": email})
        if form.is_valid():
            form.save(request._request)
        return Response({"detail": RESET_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class PasswordChangeSerializer(serializers.Serializer[dict[str, Any]]):
    current_password = serializers.CharField(write_only=True, style={"input_type": "password"})
    new_password = serializers.CharField(write_only=True, style={"input_type": "password"})


class PasswordChangeView(APIView):
    @extend_schema(
        request=PasswordChangeSerializer,
        responses={204: None},
        summary="Change my password",
        description="Signs out every other session on every host; this one stays signed in.",
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.change_password(member=request_member(request), **serializer.validated_data)
        keep_session_after_password_change(request._request, member)
        get_adapter(request._request).send_notification_mail("account/email/password_changed", member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailChangeSerializer(serializers.Serializer[dict[str, Any]]):
    new_email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, help_text="Current password")


EMAIL_CHANGE_ACCEPTED = (
    "We have sent a link to the new address; your account keeps its current address until it is opened."
)


class EmailChangeView(APIView):
    @extend_schema(
        request=EmailChangeSerializer,
        responses={202: AcceptedSerializer},
        summary="Change my email address",
        description="Emails a confirmation link to the new address; the old address is told once it changes.",
    )
    def post(self, request: Request) -> Response:
        serializer = EmailChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.request_email_change(member=request_member(request), **serializer.validated_data)
        return Response({"detail": EMAIL_CHANGE_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class MeView(APIView):
    @extend_schema(responses=MemberSerializer, summary="My account and memberships")
    def get(self, request: Request) -> Response:
        return Response(MemberSerializer(request_member(request)).data)

    @extend_schema(request=ProfileUpdateSerializer, responses=MemberSerializer, summary="Update my profile")
    def patch(self, request: Request) -> Response:
        serializer = ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with details_as_sent({"conditions": "condition_ids"}):
            member = services.update_profile(member=request_member(request), **serializer.validated_data)
        return Response(MemberSerializer(member).data)


class TenantMeSerializer(serializers.Serializer[dict[str, Any]]):
    """Me as this tenant sees me: no email, no platform id, no other partners."""

    id = serializers.CharField(read_only=True, help_text="My id on this tenant (differs on every other).")
    display_name = serializers.CharField(read_only=True, help_text="The name I show here.")
    role = serializers.ChoiceField(choices=MemberRole.choices, read_only=True, allow_blank=True)
    conditions = serializers.ListField(child=serializers.IntegerField(), read_only=True, help_text="Condition ids")
    birth_year = serializers.IntegerField(read_only=True, allow_null=True)
    country = serializers.CharField(read_only=True)
    region = serializers.CharField(read_only=True)
    email_notifications = serializers.ChoiceField(choices=EmailNotifications.choices, read_only=True)
    membership = MembershipSerializer(read_only=True, allow_null=True, help_text="My membership of this tenant.")


def _tenant_me(*, member: Member, tenant: Tenant) -> dict[str, Any]:
    return {
        "id": selectors.local_id_of(member, tenant=tenant),
        "display_name": selectors.tenant_name_of(member=member, tenant=tenant),
        "role": member.role,
        "conditions": sorted(member.conditions.values_list("pk", flat=True)),
        "birth_year": member.birth_year,
        "country": str(member.country),
        "region": member.region,
        "email_notifications": member.email_notifications,
        "membership": selectors.membership_of(member=member, tenant=tenant),
    }


class TenantMeView(APIView):
    """Tenant hosts: my profile without any id that another partner could join on (issue 9)."""

    @extend_schema(responses=TenantMeSerializer, summary="Me, as this community site sees me")
    def get(self, request: Request) -> Response:
        return Response(
            TenantMeSerializer(_tenant_me(member=request_member(request), tenant=request_tenant(request))).data
        )

    @extend_schema(request=ProfileUpdateSerializer, responses=TenantMeSerializer, summary="Update my profile")
    def patch(self, request: Request) -> Response:
        serializer = ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        member = services.update_profile(member=request_member(request), **serializer.validated_data)
        return Response(TenantMeSerializer(_tenant_me(member=member, tenant=request_tenant(request))).data)


class MyMembershipView(APIView):
    """My membership of the tenant whose host serves the request."""

    @extend_schema(responses=MembershipSerializer, summary="My membership here")
    def get(self, request: Request) -> Response:
        membership = selectors.membership_of(member=request_member(request), tenant=request_tenant(request))
        if membership is None:
            raise Http404
        return Response(MembershipSerializer(membership).data)

    @extend_schema(request=None, responses={201: MembershipSerializer}, summary="Join this partner community")
    def post(self, request: Request) -> Response:
        membership = services.join_tenant(member=request_member(request), tenant=request_tenant(request))
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, summary="Leave this partner community")
    def delete(self, request: Request) -> Response:
        services.leave_tenant(member=request_member(request), tenant=request_tenant(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TenantMemberSerializer(serializers.ModelSerializer[TenantMembership]):
    id = serializers.SerializerMethodField(help_text="The member's id on this tenant (differs on every other).")
    display_name = serializers.SerializerMethodField(help_text="The name the member uses on this tenant.")

    class Meta:
        model = TenantMembership
        fields = ["id", "display_name", "role", "joined_at"]

    def get_id(self, membership: TenantMembership) -> str:
        return membership.local_id or selectors.local_member_id(
            public_id=membership.member.public_id,
            schema_name=connection.tenant.schema_name,  # type: ignore[attr-defined]
        )

    def get_display_name(self, membership: TenantMembership) -> str:
        return membership.display_name or membership.member.display_name or selectors.FALLBACK_NAME


class RoleSerializer(serializers.Serializer[dict[str, Any]]):
    role = serializers.ChoiceField(choices=MembershipRole.choices)
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class TenantMembersView(APIView):
    @extend_schema(responses=TenantMemberSerializer(many=True), summary="Members of this tenant (moderators)")
    def get(self, request: Request) -> Response:
        if not selectors.can_moderate_tenant(member=request_member(request), tenant=request_tenant(request)):
            raise NotAllowed("Only this community's moderators and administrators can list members.")
        memberships = selectors.members_of(tenant=request_tenant(request))
        return Response(TenantMemberSerializer(memberships, many=True).data)


class TenantMemberRoleView(APIView):
    @extend_schema(request=RoleSerializer, responses=TenantMemberSerializer, summary="Change a member's role")
    def put(self, request: Request, member_id: str) -> Response:
        serializer = RoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = request_tenant(request)
        if not selectors.can_administer_tenant(member=request_member(request), tenant=tenant):
            raise NotAllowed("Only this community's administrators can change roles.")
        membership = selectors.member_by_local_id(tenant=tenant, local_id=member_id)
        if membership is None:
            raise Http404
        membership = services.set_membership_role(
            acting_member=request_member(request),
            tenant=tenant,
            member=membership.member,
            role=serializer.validated_data["role"],
            reason=serializer.validated_data["reason"],
        )
        return Response(TenantMemberSerializer(membership).data)


class PlatformSuspensionSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=services.SUSPENSION_REASON_MAX, help_text="Emailed to the member")
    days = serializers.IntegerField(
        min_value=1,
        max_value=services.SUSPENSION_DAYS_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="How long; leave out for until lifted",
    )
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True, allow_null=True)


class PlatformSuspensionView(APIView):
    """Platform staff suspend a member on every partner (they keep their data, sign-in and export)."""

    def _member(self, request: Request, public_id: str) -> Member:
        staff = request.user
        if not (staff.is_authenticated and staff.is_active and staff.is_staff):
            raise NotAllowed("Only platform staff can do that.", code="not_staff")
        member = Member.objects.filter(public_id=public_id).first()
        if member is None:
            raise Http404
        return member

    @extend_schema(
        request=PlatformSuspensionSerializer,
        responses=PlatformSuspensionSerializer,
        summary="Suspend a member platform-wide (staff)",
    )
    def put(self, request: Request, public_id: str) -> Response:
        member = self._member(request, public_id)
        serializer = PlatformSuspensionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        suspension = services.suspend_platform_wide(
            acting_member=request_member(request),
            member=member,
            reason=serializer.validated_data["reason"],
            days=serializer.validated_data["days"],
        )
        return Response(PlatformSuspensionSerializer(suspension).data)

    @extend_schema(request=None, responses={204: None}, summary="Lift a member's platform-wide suspension (staff)")
    def delete(self, request: Request, public_id: str) -> Response:
        member = self._member(request, public_id)
        services.lift_platform_suspension(acting_member=request_member(request), member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)
