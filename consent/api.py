"""Consent API (root domain and every tenant host): purposes, policy, my state, decisions, history, FHIR."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent import selectors, services
from consent.fhir import consent_bundle_for
from consent.models import Channel, ConsentPolicy, ConsentPurpose, ConsentRecord
from core.errors import InvalidInput
from members.models import Member
from members.requests import request_member
from tenants.models import Tenant
from tenants.requests import partner_tenant


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
        states = selectors.consent_state_for(member=request_member(request))
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
            member=request_member(request),
            purpose=serializer.validated_data["purpose"],
            granted=serializer.validated_data["granted"],
            channel=Channel.API,
            tenant=partner_tenant(request),
        )
        return Response(RecordSerializer(record).data, status=status.HTTP_201_CREATED)


class HistoryView(APIView):
    @extend_schema(responses=HistoryEntrySerializer(many=True), summary="My consent decisions, oldest first")
    def get(self, request: Request) -> Response:
        return Response(selectors.consent_history_for(member=request_member(request)))


class FhirJSONRenderer(JSONRenderer):
    """FHIR's own media type (R4, http://hl7.org/fhir/R4/http.html#mime-type)."""

    media_type = "application/fhir+json"
    format = "fhir"
    charset = None  # application/fhir+json is UTF-8 by definition; no parameter


class FhirConsentView(APIView):
    # FHIR's type first: a browser's "*/*" and a FHIR client's "application/fhir+json" both get the
    # bundle as FHIR JSON (no HTML page, no 406); "application/json" still works.
    renderer_classes = [FhirJSONRenderer, JSONRenderer]

    @extend_schema(
        responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT},
        summary="My consent history as a FHIR R4 Bundle of Consent resources (a download)",
    )
    def get(self, request: Request) -> Response:
        bundle = consent_bundle_for(member=request_member(request))
        response = Response(bundle)
        response["Content-Disposition"] = f'attachment; filename="kindred-consent-{timezone.now():%Y-%m-%d}.fhir.json"'
        return response


# --- platform staff (root domain) ---------------------------------------------------------------


class PurposeInputSerializer(serializers.Serializer[Any]):
    code = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=120)
    description = serializers.CharField()
    fhir_scope = serializers.ChoiceField(choices=["research", "patient-privacy"], default="patient-privacy")
    act_reason = serializers.CharField(max_length=20, default="HRESCH")


class StaffPurposeView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=PurposeInputSerializer, responses={201: PurposeSerializer}, summary="Add a purpose (staff)")
    def post(self, request: Request) -> Response:
        serializer = PurposeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        purpose = services.add_purpose(**serializer.validated_data)
        return Response(PurposeSerializer(purpose).data, status=status.HTTP_201_CREATED)


class PublishInputSerializer(serializers.Serializer[Any]):
    text_markdown = serializers.CharField()
    effective_at = serializers.DateTimeField()
    change_summary = serializers.CharField(allow_blank=True, default="")
    purposes = serializers.ListField(child=serializers.SlugField(), min_length=1)
    material_changes = serializers.ListField(child=serializers.SlugField(), default=list)


class StaffPolicyView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        request=PublishInputSerializer, responses={201: PolicySerializer}, summary="Publish the next version (staff)"
    )
    def post(self, request: Request) -> Response:
        serializer = PublishInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        by_code = {
            p.code: p for p in ConsentPurpose.objects.filter(code__in=data["purposes"] + data["material_changes"])
        }
        unknown = sorted(set(data["purposes"] + data["material_changes"]) - set(by_code))
        if unknown:
            raise InvalidInput("Unknown purposes.", details={"purposes": [f"Unknown purpose: {c}." for c in unknown]})
        policy = services.publish_policy(
            text_markdown=data["text_markdown"],
            effective_at=data["effective_at"],
            change_summary=data["change_summary"],
            purposes=[by_code[c] for c in data["purposes"]],
            material_changes=[by_code[c] for c in data["material_changes"]],
            published_by=request_member(request),
        )
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class OnBehalfInputSerializer(serializers.Serializer[Any]):
    member = serializers.UUIDField(help_text="The member's public id")
    purpose = serializers.SlugField()
    granted = serializers.BooleanField()
    reason = serializers.CharField(max_length=500)
    tenant = serializers.SlugField(required=False, allow_blank=True, default="", help_text="Partner slug")


class StaffOnBehalfView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        request=OnBehalfInputSerializer,
        responses={201: RecordSerializer},
        summary="Record a decision on a member's behalf, with a reason (staff)",
    )
    def post(self, request: Request) -> Response:
        serializer = OnBehalfInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = Member.objects.filter(public_id=data["member"]).first()
        if member is None:
            raise Http404
        tenant = Tenant.objects.partners().filter(slug=data["tenant"]).first() if data["tenant"] else None
        if data["tenant"] and tenant is None:
            raise InvalidInput("Unknown partner.", details={"tenant": [f"Unknown partner: {data['tenant']}."]})
        record = services.record_consent(
            member=member,
            purpose=data["purpose"],
            granted=data["granted"],
            channel=Channel.ADMIN,
            tenant=tenant,
            actor=request_member(request),
            reason=data["reason"],
        )
        return Response(RecordSerializer(record).data, status=status.HTTP_201_CREATED)
