"""Consent API (root domain and every tenant host): purposes, policy, my state, decisions, history, FHIR."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent import selectors, services
from consent.fhir import consent_bundle_for
from consent.models import Channel, ConsentPolicy, ConsentPurpose, ConsentRecord
from tenants.models import Tenant


class PurposeSerializer(serializers.ModelSerializer[ConsentPurpose]):
    class Meta:
        model = ConsentPurpose
        fields = ["code", "name", "description"]


class PolicyPurposeSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(source="purpose.code")
    name = serializers.CharField(source="purpose.name")
    material_change = serializers.BooleanField()


class PolicySerializer(serializers.ModelSerializer[ConsentPolicy]):
    purposes = PolicyPurposeSerializer(source="policy_purposes", many=True, read_only=True)

    class Meta:
        model = ConsentPolicy
        fields = ["version", "effective_at", "change_summary", "text_markdown", "text_html", "purposes"]


class PurposeStateSerializer(serializers.Serializer[Any]):
    purpose = serializers.CharField(source="purpose.code")
    name = serializers.CharField(source="purpose.name")
    state = serializers.ChoiceField(choices=["granted", "withdrawn", "needs_reconsent", "not_asked"])
    consenting = serializers.BooleanField()
    decided_at = serializers.DateTimeField(allow_null=True)
    policy_version = serializers.IntegerField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    purpose = serializers.CharField()
    purpose_name = serializers.CharField()
    decision = serializers.ChoiceField(choices=["granted", "withdrawn"])
    policy_version = serializers.IntegerField()
    recorded_at = serializers.DateTimeField()
    tenant = serializers.CharField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    on_behalf = serializers.BooleanField()
    reason = serializers.CharField()


class DecisionInputSerializer(serializers.Serializer[Any]):
    purpose = serializers.SlugField()
    granted = serializers.BooleanField()


class RecordSerializer(serializers.ModelSerializer[ConsentRecord]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    purpose = serializers.CharField(source="purpose.code", read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    tenant = serializers.CharField(source="tenant_schema", read_only=True)

    class Meta:
        model = ConsentRecord
        fields = ["id", "purpose", "decision", "policy_version", "recorded_at", "tenant", "channel"]
        read_only_fields = fields


def _tenant(request: Request) -> Tenant | None:
    tenant = getattr(request, "tenant", None)
    return tenant if isinstance(tenant, Tenant) and tenant.schema_name != "public" else None


class PurposeListView(APIView):
    permission_classes = [permissions.AllowAny]
    pagination_class = None

    @extend_schema(responses=PurposeSerializer(many=True), summary="Consent purposes (active)")
    def get(self, request: Request) -> Response:
        return Response(PurposeSerializer(selectors.active_purposes(), many=True).data)


class CurrentPolicyView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=PolicySerializer, summary="The consent policy in effect now")
    def get(self, request: Request) -> Response:
        policy = selectors.current_policy()
        if policy is None:
            raise Http404
        return Response(PolicySerializer(policy).data)


class MyConsentView(APIView):
    @extend_schema(responses=PurposeStateSerializer(many=True), summary="My consent, per purpose")
    def get(self, request: Request) -> Response:
        states = selectors.consent_state_for(member=request.user)  # type: ignore[arg-type]
        return Response(PurposeStateSerializer(list(states.values()), many=True).data)


class DecisionView(APIView):
    @extend_schema(
        request=DecisionInputSerializer,
        responses={201: RecordSerializer},
        summary="Grant or withdraw one purpose (appends to my consent ledger)",
    )
    def post(self, request: Request) -> Response:
        serializer = DecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = services.record_consent(
            member=request.user,  # type: ignore[arg-type]
            purpose=serializer.validated_data["purpose"],
            granted=serializer.validated_data["granted"],
            channel=Channel.API,
            tenant=_tenant(request),
        )
        return Response(RecordSerializer(record).data, status=status.HTTP_201_CREATED)


class HistoryView(APIView):
    @extend_schema(responses=HistoryEntrySerializer(many=True), summary="My consent decisions, oldest first")
    def get(self, request: Request) -> Response:
        return Response(selectors.consent_history_for(member=request.user))  # type: ignore[arg-type]


class FhirConsentView(APIView):
    @extend_schema(
        responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT},
        summary="My consent history as a FHIR R4 Bundle of Consent resources",
    )
    def get(self, request: Request) -> Response:
        bundle = consent_bundle_for(member=request.user)  # type: ignore[arg-type]
        return Response(bundle, content_type="application/fhir+json")
