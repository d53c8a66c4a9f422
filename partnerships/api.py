"""Partnerships API on the root domain: staff see and act on every agreement; a partner admin sees the
agreements covering their tenant (read-only) and publishes their tenant in the directory."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conditions.models import Condition
from members.requests import request_member
from partnerships import selectors, services
from partnerships.models import AgreementEvent, Invoice, PartnershipAgreement, StudyInvitation
from tenants.models import Tenant


class IsStaff(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class InvoiceSerializer(serializers.ModelSerializer[Invoice]):
    class Meta:
        model = Invoice
        fields = ["stripe_invoice_id", "status", "amount_due", "amount_paid", "currency", "hosted_invoice_url"]
        read_only_fields = fields


class AgreementEventSerializer(serializers.ModelSerializer[AgreementEvent]):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = AgreementEvent
        fields = ["created_at", "actor", "source", "action", "old_status", "new_status", "changes", "reason"]
        read_only_fields = fields

    def get_actor(self, event: AgreementEvent) -> str:
        return event.actor.email if event.actor else event.source


class AgreementSerializer(serializers.ModelSerializer[PartnershipAgreement]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    partner = serializers.CharField(source="partner.name", read_only=True)
    beneficiary = serializers.SerializerMethodField()
    tenants: serializers.RelatedField[Any, Any, Any] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    invoices = InvoiceSerializer(many=True, read_only=True)

    class Meta:
        model = PartnershipAgreement
        fields = [
            "id", "partner", "beneficiary", "kind", "status", "starts_on", "ends_on", "fee_cents", "currency",
            "interval", "tenants", "payment_link_url", "invoices", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_beneficiary(self, agreement: PartnershipAgreement) -> str | None:
        return agreement.beneficiary.name if agreement.beneficiary else None


class StaffAgreementSerializer(AgreementSerializer):
    events = AgreementEventSerializer(many=True, read_only=True)
    recipients: serializers.RelatedField[Any, Any, Any] = serializers.SlugRelatedField(
        slug_field="email", many=True, read_only=True, help_text="Research agreements: the named data recipients."
    )

    class Meta(AgreementSerializer.Meta):
        fields = [
            *AgreementSerializer.Meta.fields,
            "tenant_name", "tenant_slug", "first_admin_email", "provisioning_progress", "provisioning_error",
            "past_due_since", "recipients", "events",
        ]  # fmt: skip
        read_only_fields = fields


def _serialize(request: Request, data: Any, *, many: bool = False) -> Any:
    serializer = StaffAgreementSerializer if request_member(request).is_staff else AgreementSerializer
    return serializer(data, many=many, context={"request": request}).data


def _visible(request: Request, public_id: Any) -> PartnershipAgreement:
    agreement = selectors.agreements_visible_to(member=request_member(request)).filter(public_id=public_id).first()
    if agreement is None:
        raise Http404
    return agreement


class AgreementListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=StaffAgreementSerializer(many=True),
        summary="Agreements: every one for platform staff; a partner admin's own (fewer fields)",
    )
    def get(self, request: Request) -> Response:
        return Response(_serialize(request, selectors.agreements_visible_to(member=request_member(request)), many=True))


class AgreementDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=StaffAgreementSerializer, summary="One agreement (404 when not yours)")
    def get(self, request: Request, public_id: Any) -> Response:
        return Response(_serialize(request, _visible(request, public_id)))


ReasonSerializer = inline_serializer(
    "AgreementActionReason", fields={"reason": serializers.CharField(required=False, allow_blank=True, max_length=500)}
)
ACTIONS = {
    "activate": lambda member, pk, reason: services.activate_agreement(actor=member, agreement_id=pk, reason=reason),
    "retry": lambda member, pk, reason: services.retry_provisioning(actor=member, agreement_id=pk, reason=reason),
    "bill": lambda member, pk, reason: services.start_billing(actor=member, agreement_id=pk),
    "suspend": lambda member, pk, reason: services.suspend_agreement(actor=member, agreement_id=pk, reason=reason),
    "end": lambda member, pk, reason: services.end_agreement(actor=member, agreement_id=pk, reason=reason),
}


class AgreementActionView(APIView):
    """activate (provisions hosted/sponsored), retry (failed provisioning), bill, suspend, end: staff only."""

    permission_classes = [IsStaff]

    @extend_schema(request=ReasonSerializer, responses=StaffAgreementSerializer, summary="Act on an agreement")
    def post(self, request: Request, public_id: Any, action: str) -> Response:
        if action not in ACTIONS:
            raise Http404
        agreement = _visible(request, public_id)
        reason = str(request.data.get("reason") or "")[:500]
        ACTIONS[action](request_member(request), agreement.pk, reason)
        return Response(_serialize(request, _visible(request, public_id)))


class RecipientsSerializer(serializers.Serializer[Any]):
    recipients = serializers.ListField(
        child=serializers.EmailField(), allow_empty=True, max_length=100, help_text="Emails of active accounts."
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class AgreementRecipientsView(APIView):
    """Staff name the people who may receive a research agreement's data (the whole list, replaced)."""

    permission_classes = [IsStaff]

    @extend_schema(
        request=RecipientsSerializer,
        responses=StaffAgreementSerializer,
        summary="Set a research agreement's named data recipients (staff)",
    )
    def put(self, request: Request, public_id: Any) -> Response:
        serializer = RecipientsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.set_agreement_recipients_by_email(
            actor=request_member(request),
            agreement=_visible(request, public_id),
            emails=data["recipients"],
            reason=data["reason"],
        )
        return Response(_serialize(request, _visible(request, public_id)))


class PublishSerializer(serializers.Serializer[Any]):
    listed = serializers.BooleanField()


class TenantPublishView(APIView):
    """A partner admin lists their new tenant in the public directory (or hides it)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=PublishSerializer, responses=PublishSerializer, summary="Publish a tenant in the directory")
    def post(self, request: Request, slug: str) -> Response:
        serializer = PublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = Tenant.objects.partners().filter(slug=slug).first()
        if tenant is None:
            raise Http404
        try:
            tenant = services.publish_tenant(
                acting_member=request_member(request), tenant=tenant, listed=serializer.validated_data["listed"]
            )
        except services.NotAllowed as exc:
            raise Http404 from exc  # a tenant you do not run looks the same as no tenant
        return Response({"listed": tenant.listed})


class StudySerializer(serializers.ModelSerializer[StudyInvitation]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    agreement = serializers.UUIDField(source="agreement.public_id")
    tenant = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.partners())
    conditions = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Condition.objects.all())

    class Meta:
        model = StudyInvitation
        fields = [
            "id", "agreement", "tenant", "title", "summary", "eligibility", "contact", "ethics_approval_ref",
            "conditions", "status", "recipients", "created_at", "sent_at",
        ]  # fmt: skip
        read_only_fields = ["id", "status", "recipients", "created_at", "sent_at"]


class StudyListView(APIView):
    """Research partners submit study invitations; staff, tenant admins and the partner read them."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=StudySerializer(many=True), summary="Study invitations you may see")
    def get(self, request: Request) -> Response:
        studies = selectors.studies_visible_to(member=request_member(request))
        return Response(StudySerializer(studies, many=True).data)

    @extend_schema(request=StudySerializer, responses={201: StudySerializer}, summary="Submit a study invitation")
    def post(self, request: Request) -> Response:
        serializer = StudySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        agreement = PartnershipAgreement.objects.filter(public_id=data["agreement"]["public_id"]).first()
        if agreement is None:
            raise Http404
        study = services.submit_study_invitation(
            submitted_by=request_member(request),
            agreement=agreement,
            tenant=data["tenant"],
            title=data["title"],
            summary=data["summary"],
            eligibility=data["eligibility"],
            contact=data["contact"],
            ethics_approval_ref=data["ethics_approval_ref"],
            condition_ids=[c.pk for c in data.get("conditions", [])],
        )
        return Response(StudySerializer(study).data, status=201)


class StudyDecisionSerializer(serializers.Serializer[Any]):
    approve = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class StudyDecisionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=StudyDecisionSerializer, responses=StudySerializer, summary="Approve or reject a study")
    def post(self, request: Request, public_id: Any) -> Response:
        serializer = StudyDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        study = selectors.studies_visible_to(member=request_member(request)).filter(public_id=public_id).first()
        if study is None:
            raise Http404
        study = services.decide_study_invitation(
            acting_member=request_member(request),
            study_id=study.pk,
            approve=serializer.validated_data["approve"],
            reason=serializer.validated_data["reason"],
        )
        return Response(StudySerializer(study).data)
