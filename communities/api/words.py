"""Communities API: watched words, link rules and crisis settings."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import moderation, selectors
from communities.api.common import _require_moderator
from communities.api.serializers import _valid
from communities.models import WatchedWordAction
from core.errors import InvalidInput
from members.requests import request_member
from tenants.models import Tenant
from tenants.requests import request_tenant


class WatchedWordSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    pattern = serializers.CharField(max_length=300)
    is_regex = serializers.BooleanField(required=False, default=False, help_text="RE2 syntax")
    action = serializers.ChoiceField(choices=WatchedWordAction.choices)
    replacement = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    message = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    created_at = serializers.DateTimeField(read_only=True)


class PatternTestSerializer(serializers.Serializer[Any]):
    pattern = serializers.CharField(max_length=300)
    is_regex = serializers.BooleanField(required=False, default=False)
    action = serializers.ChoiceField(choices=WatchedWordAction.choices)
    replacement = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    sample = serializers.CharField(max_length=20_000)


class PatternTrialSerializer(serializers.Serializer[Any]):
    matched = serializers.BooleanField()
    outcome = serializers.CharField()
    text = serializers.CharField(help_text="The sample as it would be saved")
    message = serializers.CharField()


class LinkRulesSerializer(serializers.Serializer[Any]):
    new_members_may_link = serializers.BooleanField()
    new_member_posts = serializers.IntegerField(min_value=0, max_value=100)
    link_allowed_domains = serializers.CharField(allow_blank=True, help_text="One domain per line")
    link_denied_domains = serializers.CharField(allow_blank=True, help_text="One domain per line")


class WatchedWordListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=WatchedWordSerializer(many=True), summary="This tenant's watched words (moderators)")
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        return Response(WatchedWordSerializer(selectors.watched_word_list(), many=True).data)

    @extend_schema(
        request=WatchedWordSerializer, responses={201: WatchedWordSerializer}, summary="Watch a word or pattern"
    )
    def post(self, request: Request) -> Response:
        data = _valid(WatchedWordSerializer, request)
        word = moderation.add_watched_word(
            acting_member=request_member(request), tenant=request_tenant(request), **data
        )
        return Response(WatchedWordSerializer(word).data, status=status.HTTP_201_CREATED)


class WatchedWordDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={204: None}, summary="Stop watching a word")
    def delete(self, request: Request, word_id: int) -> Response:
        _require_moderator(request)
        word = selectors.access_watched_word(word_id=word_id)
        moderation.remove_watched_word(acting_member=request_member(request), tenant=request_tenant(request), word=word)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchedWordTestView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=PatternTestSerializer,
        responses=PatternTrialSerializer,
        summary="What a watched word would do to a sample text (saves nothing)",
    )
    def post(self, request: Request) -> Response:
        data = _valid(PatternTestSerializer, request)
        trial = moderation.try_pattern(acting_member=request_member(request), tenant=request_tenant(request), **data)
        return Response(PatternTrialSerializer(trial).data)


class LinkRulesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=LinkRulesSerializer, summary="This tenant's link rules (moderators)")
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        return Response(LinkRulesSerializer(selectors.moderation_settings()).data)

    @extend_schema(request=LinkRulesSerializer, responses=LinkRulesSerializer, summary="Change the link rules")
    def put(self, request: Request) -> Response:
        data = _valid(LinkRulesSerializer, request)
        row = moderation.update_link_rules(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            new_members_may_link=data["new_members_may_link"],
            new_member_posts=data["new_member_posts"],
            allowed_domains=data["link_allowed_domains"],
            denied_domains=data["link_denied_domains"],
        )
        return Response(LinkRulesSerializer(row).data)


class CrisisTermSerializer(serializers.Serializer[Any]):
    phrase = serializers.CharField(max_length=200)
    risk = serializers.ChoiceField(choices=["low", "medium", "high"])


class CrisisSettingsSerializer(serializers.Serializer[Any]):
    resources = serializers.CharField(help_text="Shown to the author of a post in crisis; one per line")
    terms = CrisisTermSerializer(many=True, help_text="The crisis-language list (replaced as a whole)")
    on_call = serializers.ListField(
        child=serializers.CharField(max_length=40),
        help_text="The ids here of the moderators emailed at once about urgent posts",
    )


def _crisis_settings(tenant: Tenant) -> dict[str, Any]:
    on_call = selectors.local_ids_of(tenant=tenant, member_ids=selectors.on_call_member_ids())
    return {
        "resources": selectors.moderation_settings().crisis_resources,
        "terms": [
            {"phrase": term.phrase, "risk": term.get_risk_display().lower()} for term in selectors.crisis_terms()
        ],
        "on_call": sorted(on_call.values()),
    }


class CrisisSettingsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=CrisisSettingsSerializer, summary="Crisis escalation settings (moderators)")
    def get(self, request: Request) -> Response:
        _require_moderator(request)
        return Response(CrisisSettingsSerializer(_crisis_settings(request_tenant(request))).data)

    @extend_schema(
        request=CrisisSettingsSerializer, responses=CrisisSettingsSerializer, summary="Change them (moderators)"
    )
    def put(self, request: Request) -> Response:
        data = _valid(CrisisSettingsSerializer, request)
        tenant = request_tenant(request)
        ids = selectors.member_ids_by_local_id(tenant=tenant, local_ids=data["on_call"])
        if len(ids) != len(set(data["on_call"])):
            raise InvalidInput("Unknown member.", code="member_unknown", details={"on_call": ["Unknown member."]})
        moderation.update_crisis_settings(
            acting_member=request_member(request),
            tenant=tenant,
            resources=data["resources"],
            terms=[(term["phrase"], term["risk"]) for term in data["terms"]],
            on_call_member_ids=ids.values(),
        )
        return Response(CrisisSettingsSerializer(_crisis_settings(tenant)).data)
