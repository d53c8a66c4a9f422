"""Communities API: silence, suspend, trust level; moderators; slow mode (communities.safety)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import moderation, safety, selectors, services
from communities.api.common import _require_moderator
from communities.api.serializers import AuthorSerializer, _valid
from communities.models import (
    MemberRestriction,
    RestrictionKind,
    TrustLevel,
)
from core.errors import NotAllowed
from members.models import Member
from members.requests import request_member
from members.selectors import (
    can_administer_tenant,
    member_by_local_id,
)
from tenants.models import Tenant
from tenants.requests import request_tenant


def _member_here(request: Request, member_id: str) -> Member:
    """A member of this tenant by their id here; 404 for anyone else (ids reveal nothing)."""
    membership = member_by_local_id(tenant=request_tenant(request), local_id=member_id)
    if membership is None:
        raise Http404("No such member.")
    return membership.member


class RestrictionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    member = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=RestrictionKind.choices)
    reason = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, help_text="null: until a moderator lifts it")
    lifted_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(AuthorSerializer)
    def get_member(self, restriction: MemberRestriction) -> dict[str, Any]:
        return dict(AuthorSerializer(restriction.member).data)


class RestrictionInputSerializer(serializers.Serializer[Any]):
    member_id = serializers.CharField(max_length=64, help_text="The member's id on this tenant")
    kind = serializers.ChoiceField(choices=RestrictionKind.choices)
    days = serializers.IntegerField(
        min_value=1, max_value=moderation.RESTRICTION_DAYS_MAX, required=False, allow_null=True, default=None,
        help_text="How long; leave out (suspensions only) for until lifted",
    )  # fmt: skip
    reason = serializers.CharField(max_length=500, help_text="Shown to the member")


class RestrictionListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=RestrictionSerializer(many=True), summary="Silenced and suspended members now (moderators)"
    )
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        rows = safety.current_restrictions(limit=500)
        return Response(RestrictionSerializer(rows, many=True).data)

    @extend_schema(
        request=RestrictionInputSerializer,
        responses={201: RestrictionSerializer},
        summary="Silence or suspend a member of this tenant (moderators)",
    )
    def post(self, request: Request) -> Response:
        _require_moderator(request)
        data = _valid(RestrictionInputSerializer, request)
        member = _member_here(request, data["member_id"])
        restriction = moderation.restrict_member(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=member,
            kind=data["kind"],
            reason=data["reason"],
            days=data["days"],
        )
        return Response(RestrictionSerializer(restriction).data, status=status.HTTP_201_CREATED)


class RestrictionDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=RestrictionSerializer, summary="Lift a silence or suspension (moderators)")
    def delete(self, request: Request, restriction_id: int) -> Response:
        try:
            restriction = moderation.restriction_for_moderator(
                member=request_member(request), tenant=request_tenant(request), restriction_id=restriction_id
            )
        except services.CommunityNotFound as error:
            raise Http404(error.message) from error
        lifted = moderation.lift_restriction(
            acting_member=request_member(request), tenant=request_tenant(request), restriction=restriction
        )
        return Response(RestrictionSerializer(lifted).data)


class TrustSerializer(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=safety.TRUST_LEVEL_NAMES)
    locked = serializers.BooleanField(help_text="Set by a moderator: the rules don't move it")
    posts_read = serializers.IntegerField()
    days = serializers.IntegerField()
    posts = serializers.IntegerField()
    helpful = serializers.IntegerField()
    upheld_flags = serializers.IntegerField()


class TrustInputSerializer(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=safety.TRUST_LEVEL_NAMES)
    locked = serializers.BooleanField(required=False, default=True, help_text="false: the rules decide again")
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


def _trust_data(member: Member, tenant: Tenant) -> dict[str, Any]:
    row = selectors.trust_of(member=member)
    activity = safety.activity_of(member=member, tenant=tenant)
    names = {value: name for name, value in safety.LEVEL_NAMES.items()}
    return {
        "level": names[TrustLevel(row.level if row else TrustLevel.NEW)],
        "locked": bool(row and row.locked),
        "posts_read": activity.posts_read,
        "days": activity.days,
        "posts": activity.posts,
        "helpful": activity.helpful,
        "upheld_flags": activity.upheld_flags,
    }


class MemberTrustView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=TrustSerializer, summary="A member's trust level and the numbers behind it (moderators)")
    def get(self, request: Request, member_id: str) -> Response:
        _require_moderator(request)
        return Response(TrustSerializer(_trust_data(_member_here(request, member_id), request_tenant(request))).data)

    @extend_schema(
        request=TrustInputSerializer, responses=TrustSerializer, summary="Set a member's trust level (moderators)"
    )
    def put(self, request: Request, member_id: str) -> Response:
        _require_moderator(request)
        member = _member_here(request, member_id)
        data = _valid(TrustInputSerializer, request)
        moderation.set_trust_level(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=member,
            level=data["level"],
            locked=data["locked"],
            reason=data["reason"],
        )
        return Response(TrustSerializer(_trust_data(member, request_tenant(request))).data)


class SlowModeSerializer(serializers.Serializer[Any]):
    minutes = serializers.IntegerField(
        min_value=0,
        max_value=moderation.SLOW_MODE_MAX_MINUTES,
        help_text="One post per member per this many minutes; 0: off",
    )
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class TopicSlowModeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=SlowModeSerializer, responses=SlowModeSerializer, summary="Set a topic's slow mode (moderators)"
    )
    def put(self, request: Request, topic_id: int) -> Response:
        _require_moderator(request)
        topic = selectors.access_topic(
            member=request_member(request), tenant=request_tenant(request), topic_id=topic_id
        )
        data = _valid(SlowModeSerializer, request)
        topic = moderation.set_slow_mode(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            topic=topic,
            minutes=data["minutes"],
            reason=data["reason"],
        )
        return Response({"minutes": topic.slow_mode_minutes, "reason": data["reason"]})


class ModeratorSerializer(serializers.Serializer[Any]):
    member = AuthorSerializer()
    role = serializers.CharField()


class ModeratorInputSerializer(serializers.Serializer[Any]):
    member_id = serializers.CharField(max_length=64, help_text="The member's id on this tenant")
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


def _moderator_rows(tenant: Tenant) -> list[dict[str, Any]]:
    rows = selectors.moderator_memberships(tenant=tenant)
    return [{"member": row.member, "role": row.role} for row in rows]


class ModeratorListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=ModeratorSerializer(many=True), summary="This tenant's moderators and administrators (admins)"
    )
    def get(self, request: Request) -> Response:
        if not can_administer_tenant(member=request_member(request), tenant=request_tenant(request)):
            raise NotAllowed("Only this site's administrators can do that.", code="not_admin")
        return Response(ModeratorSerializer(_moderator_rows(request_tenant(request)), many=True).data)

    @extend_schema(
        request=ModeratorInputSerializer,
        responses={201: ModeratorSerializer(many=True)},
        summary="Add a moderator (admins)",
    )
    def post(self, request: Request) -> Response:
        if not can_administer_tenant(member=request_member(request), tenant=request_tenant(request)):
            raise NotAllowed("Only this site's administrators can do that.", code="not_admin")
        data = _valid(ModeratorInputSerializer, request)
        moderation.set_moderator(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=_member_here(request, data["member_id"]),
            moderator=True,
            reason=data["reason"],
        )
        return Response(ModeratorSerializer(_moderator_rows(request_tenant(request)), many=True).data, status=201)


class ModeratorDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, summary="Remove a moderator: a member again (admins)")
    def delete(self, request: Request, member_id: str) -> Response:
        if not can_administer_tenant(member=request_member(request), tenant=request_tenant(request)):
            raise NotAllowed("Only this site's administrators can do that.", code="not_admin")
        moderation.set_moderator(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=_member_here(request, member_id),
            moderator=False,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
