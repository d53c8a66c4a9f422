"""Web forms for study invitations. They check shape only; the services decide who may do what."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from conditions.models import Condition
from partnerships.models import PartnershipAgreement, StudyInvitation
from tenants.models import Tenant


class AgreementChoiceField(forms.ModelChoiceField[PartnershipAgreement]):
    def label_from_instance(self, obj: PartnershipAgreement) -> str:
        return f"{obj.partner.name}: research agreement from {obj.starts_on:%d %b %Y} ({obj.get_status_display()})"


class StudySubmitForm(forms.Form):
    """Blank text fields pass here on purpose: the submit service names each missing one."""

    agreement = AgreementChoiceField(queryset=PartnershipAgreement.objects.none(), empty_label=None)
    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.none(), label="Community", help_text="Only communities your agreement covers."
    )
    title = forms.CharField(max_length=StudyInvitation._meta.get_field("title").max_length, required=False)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, required=False)
    eligibility = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False, label="Who can take part"
    )
    contact = forms.CharField(
        max_length=StudyInvitation._meta.get_field("contact").max_length,
        required=False,
        label="Contact for the researchers",
    )
    ethics_approval_ref = forms.CharField(
        max_length=StudyInvitation._meta.get_field("ethics_approval_ref").max_length,
        required=False,
        label="Ethics approval reference",
    )
    conditions = forms.ModelMultipleChoiceField(
        queryset=Condition.objects.none(),
        required=False,
        help_text="Only members with one of these conditions are invited. None chosen: every condition the "
        "agreement covers.",
    )

    def __init__(self, *args: Any, agreements: QuerySet[PartnershipAgreement], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agreement_field: Any = self.fields["agreement"]
        tenant_field: Any = self.fields["tenant"]
        condition_field: Any = self.fields["conditions"]
        agreement_field.queryset = agreements
        # Only the communities and conditions these agreements name: the form never lists other tenants.
        tenant_field.queryset = (
            Tenant.objects.filter(agreements__in=agreements.values("pk")).distinct().order_by("name")
        )
        condition_field.queryset = (
            Condition.objects.filter(pk__in=agreements.values("conditions")).distinct().order_by("name")
        )


class StudyDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    reason = forms.CharField(max_length=500, required=False)
