"""Communities API: flags and the review queue."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import moderation, safety, selectors, services
from communities.api.common import _readable_post, _require_moderator
from communities.api.serializers import AuthorSerializer, _valid
from communities.models import FlagReason
from communities.moderation import Decision
from core.errors import InvalidInput
from members.requests import request_member
from members.selectors import attach_display_names
from tenants.requests import request_tenant


class FlagInputSerializer(serializers.Serializer[Any]):
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    text = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class FlagSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    post_id = serializers.IntegerField(read_only=True)
    reason = serializers.CharField(read_only=True)
    text = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ReviewFlagSerializer(FlagSerializer):
    weight = serializers.IntegerField(read_only=True)


class ReviewItemSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    community = serializers.CharField(source="community.slug", read_only=True)
    status = serializers.CharField(read_only=True)
    held = serializers.BooleanField(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    risk = serializers.CharField(source="get_risk_display", read_only=True)
    escalated = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    decision = serializers.CharField(read_only=True)
    topic_id = serializers.IntegerField(source="post.topic_id", read_only=True)
    topic_title = serializers.CharField(source="post.topic.title", read_only=True)
    post_id = serializers.IntegerField(read_only=True)
    post_status = serializers.CharField(source="post.status", read_only=True)
    body_markdown = serializers.CharField(source="post.body_markdown", read_only=True)
    body_html = serializers.CharField(source="post.body_html", read_only=True)
    author = AuthorSerializer(source="post.author", read_only=True, allow_null=True)
    flags = ReviewFlagSerializer(source="post.flags.all", many=True, read_only=True)


class ReviewDecisionSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=list(Decision.LABELS.items()))
    reason = serializers.CharField(
        max_length=500,
        required=False,
        default="",
        allow_blank=True,
        help_text="Needed to hide, edit, mark, escalate",
    )
    body = serializers.CharField(required=False, default="", allow_blank=True, help_text="The new text (edit)")
    link = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True, help_text="Trusted resource (misinformation)"
    )
    community = serializers.SlugField(required=False, default="", allow_blank=True, help_text="Target (move)")


class TrustLevelRequirementsSerializer(serializers.Serializer[Any]):
    days = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    posts_read = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    posts = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    helpful = serializers.IntegerField(min_value=0, max_value=100_000, required=False)


class TrustRequirementsSerializer(serializers.Serializer[Any]):
    member = TrustLevelRequirementsSerializer(required=False)
    trusted = TrustLevelRequirementsSerializer(required=False)
    leader = TrustLevelRequirementsSerializer(required=False)


class ModerationSettingsSerializer(serializers.Serializer[Any]):
    flag_threshold = serializers.IntegerField(min_value=1, max_value=50)
    trust_requirements = TrustRequirementsSerializer(
        required=False, help_text="What each trust level needs: days here, posts read, posts, helpful reactions"
    )
    new_max_links = serializers.IntegerField(min_value=0, max_value=50, required=False)
    new_max_images = serializers.IntegerField(min_value=0, max_value=50, required=False)
    new_max_mentions = serializers.IntegerField(min_value=0, max_value=50, required=False)
    new_topics_per_day = serializers.IntegerField(min_value=0, max_value=100, required=False)
    trusted_flag_weight = serializers.IntegerField(min_value=1, max_value=50, required=False)
    demote_after_upheld_flags = serializers.IntegerField(
        min_value=0, max_value=100, required=False, help_text="Upheld flags that cost one trust level (0: never)"
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["trust_requirements"] = safety.requirements(instance)
        return dict(data)


class PostFlagView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=FlagInputSerializer, responses={201: FlagSerializer}, summary="Report a post (once per member)"
    )
    def post(self, request: Request, post_id: int) -> Response:
        post = _readable_post(request, post_id)
        data = _valid(FlagInputSerializer, request)
        flag = moderation.flag_post(
            member=request_member(request),
            tenant=request_tenant(request),
            post=post,
            reason=data["reason"],
            text=data["text"],
        )
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class ReviewQueueView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("community", str, required=False, description="a community's slug"),
            OpenApiParameter("reason", str, required=False, description="a flag reason, or 'held'"),
        ],
        responses=ReviewItemSerializer(many=True),
        summary="This tenant's review queue (moderators): urgent first, then oldest",
    )
    def get(self, request: Request) -> Response:
        member, tenant = request_member(request), request_tenant(request)
        _require_moderator(request)
        items = selectors.review_queue(
            member=member,
            tenant=tenant,
            community_slug=request.query_params.get("community") or None,
            reason=request.query_params.get("reason") or None,
        )
        attach_display_names([item.post for item in items], tenant=tenant)
        return Response(ReviewItemSerializer(items, many=True).data)


class ReviewDecisionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=ReviewDecisionSerializer, responses=ReviewItemSerializer, summary="Decide a review item (moderators)"
    )
    def post(self, request: Request, item_id: int) -> Response:
        member, tenant = request_member(request), request_tenant(request)
        try:
            item = moderation.review_item_for_moderator(member=member, tenant=tenant, item_id=item_id)
        except services.CommunityNotFound as error:
            raise Http404(error.message) from error
        data = _valid(ReviewDecisionSerializer, request)
        target = None
        if data["community"]:
            target = selectors.community_by_slug(slug=data["community"])
            if target is None:
                raise InvalidInput("No such community.", code="community_unknown", details={"community": ["Unknown."]})
        decided = moderation.decide(
            acting_member=member,
            tenant=tenant,
            item=item,
            choice=moderation.DecisionInput(
                decision=data["decision"], reason=data["reason"], body=data["body"], link=data["link"], community=target
            ),
        )
        decided = selectors.review_item_with_post(item_id=decided.pk)
        attach_display_names([decided.post], tenant=tenant)
        return Response(ReviewItemSerializer(decided).data)


class ModerationSettingsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=ModerationSettingsSerializer, summary="This tenant's moderation settings (moderators)")
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        return Response(ModerationSettingsSerializer(selectors.moderation_settings()).data)

    @extend_schema(
        request=ModerationSettingsSerializer, responses=ModerationSettingsSerializer, summary="Change them (moderators)"
    )
    def put(self, request: Request) -> Response:
        data = _valid(ModerationSettingsSerializer, request)
        member, tenant = request_member(request), request_tenant(request)
        trust = {name: data[name] for name in moderation.TRUST_SETTING_LIMITS if name in data}
        if trust or "trust_requirements" in data:
            # Validate the trust settings before writing the threshold: a refusal changes nothing.
            with transaction.atomic():
                moderation.update_moderation_settings(
                    acting_member=member, tenant=tenant, flag_threshold=data["flag_threshold"]
                )
                moderation.update_trust_settings(
                    acting_member=member,
                    tenant=tenant,
                    requirements=_merged_requirements(data.get("trust_requirements")),
                    **trust,
                )
        else:
            moderation.update_moderation_settings(
                acting_member=member, tenant=tenant, flag_threshold=data["flag_threshold"]
            )
        return Response(ModerationSettingsSerializer(selectors.moderation_settings()).data)


def _merged_requirements(given: dict[str, Any] | None) -> dict[str, Any] | None:
    """A partial ladder from the API, completed with the tenant's current thresholds."""
    if given is None:
        return None
    current = safety.requirements()
    return {level: {**values, **dict(given.get(level) or {})} for level, values in current.items()}
