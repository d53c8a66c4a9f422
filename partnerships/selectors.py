"""Reads for partnerships: who may see which agreement, a tenant's sponsor."""

from __future__ import annotations

from django.db.models import Case, CharField, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from members.models import Member, MembershipRole, TenantMembership
from partnerships.models import (
    SPONSOR_VISIBLE_STATUSES,
    AgreementEvent,
    AgreementKind,
    AgreementStatus,
    Partner,
    PartnershipAgreement,
    StudyInvitation,
    StudyStatus,
)
from tenants.models import Tenant

TENANT_AGREEMENT_KINDS = (AgreementKind.HOSTED, AgreementKind.SPONSORED)


def agreements_visible_to(*, member: Member) -> QuerySet[PartnershipAgreement]:
    """Platform staff see every agreement; a partner admin sees those covering a tenant they administer."""
    base = PartnershipAgreement.objects.select_related("partner", "beneficiary", "tenant").prefetch_related(
        "invoices", "tenants"
    )
    if not member.is_authenticated or not member.is_active:
        return base.none()
    if member.is_staff:
        return base.order_by("-created_at", "-pk")
    admin_tenants = TenantMembership.objects.filter(member=member, role=MembershipRole.ADMIN).values("tenant_id")
    # A research partner's agreement covering the tenant is that partner's business, not the tenant's.
    return (
        base.filter(tenants__in=admin_tenants, kind__in=TENANT_AGREEMENT_KINDS)
        .distinct()
        .order_by("-created_at", "-pk")
    )


def agreements_for_tenant(*, tenant: Tenant) -> QuerySet[PartnershipAgreement]:
    """The agreements that host or sponsor this tenant (what its admins see, read-only)."""
    return (
        PartnershipAgreement.objects.filter(tenants=tenant, kind__in=TENANT_AGREEMENT_KINDS)
        .select_related("partner", "beneficiary")
        .prefetch_related("invoices")
        .order_by("-created_at", "-pk")
    )


def sponsor_of(*, tenant: Tenant) -> Partner | None:
    """The sponsor shown on a community, only while its sponsorship is active (or within grace)."""
    agreement = (
        PartnershipAgreement.objects.filter(
            tenants=tenant, kind=AgreementKind.SPONSORED, status__in=SPONSOR_VISIBLE_STATUSES
        )
        .select_related("partner")
        .order_by("-created_at")
        .first()
    )
    return agreement.partner if agreement else None


def ended_agreement_of(*, tenant: Tenant) -> PartnershipAgreement | None:
    return (
        PartnershipAgreement.objects.filter(tenants=tenant, status=AgreementStatus.ENDED)
        .order_by("-updated_at")
        .first()
    )


def sent_studies_for(*, tenant: Tenant) -> QuerySet[StudyInvitation]:
    return (
        StudyInvitation.objects.filter(tenant=tenant, status=StudyStatus.SENT)
        .select_related("agreement__partner")
        .order_by("-sent_at")
    )


def studies_visible_to(*, member: Member) -> QuerySet[StudyInvitation]:
    """Staff: all; a tenant admin: their tenants'; a partner representative: their partner's."""
    base = StudyInvitation.objects.select_related("agreement__partner", "tenant").prefetch_related("conditions")
    if not member.is_authenticated or not member.is_active:
        return base.none()
    if member.is_staff:
        return base
    admin_tenants = TenantMembership.objects.filter(member=member, role=MembershipRole.ADMIN).values("tenant_id")
    return base.filter(Q(tenant__in=admin_tenants) | Q(agreement__partner__representatives=member)).distinct()


def studies_for_tenant(*, tenant: Tenant) -> QuerySet[StudyInvitation]:
    """Every invitation addressed to this tenant (what its admins decide on): waiting ones first."""
    return (
        StudyInvitation.objects.filter(tenant=tenant)
        .select_related("agreement__partner")
        .prefetch_related("conditions")
        .annotate(
            pending=Case(
                When(status=StudyStatus.SUBMITTED, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("pending", "-created_at", "-pk")
    )


def active_members_by_email(*, emails: list[str]) -> dict[str, int]:
    """lower-cased email → account id, for the active accounts among ``emails``."""
    wanted = {email.strip().lower() for email in emails if email.strip()}
    if not wanted:
        return {}
    rows = Member.objects.filter(is_active=True, email__in=wanted).values_list("email", "pk")
    found = {email.lower(): pk for email, pk in rows}
    # Emails are unique as stored; a differently-cased stored address is found case-insensitively.
    for email in wanted - set(found):
        match = Member.objects.filter(is_active=True, email__iexact=email).values_list("pk", flat=True).first()
        if match is not None:
            found[email] = match
    return found


def research_agreements_represented_by(*, member: Member) -> QuerySet[PartnershipAgreement]:
    """The research agreements of the partners this member acts for (whatever their status: the submit
    service says why an inactive one cannot be used)."""
    if not member.is_authenticated or not member.is_active:
        return PartnershipAgreement.objects.none()
    return (
        PartnershipAgreement.objects.filter(kind=AgreementKind.RESEARCH, partner__representatives=member)
        .select_related("partner")
        .prefetch_related("tenants", "conditions")
        .distinct()
        .order_by("partner__name", "-created_at", "-pk")
    )


def studies_of_partners_represented_by(*, member: Member) -> QuerySet[StudyInvitation]:
    """The invitations the partners this member acts for submitted (by any of their representatives), each
    with the reason given when it was declined (kept on the agreement's audit row)."""
    if not member.is_authenticated or not member.is_active:
        return StudyInvitation.objects.none()
    rejection = (
        AgreementEvent.objects.filter(action="study_rejected")
        .annotate(study_ref=KT("changes__study"))
        .filter(study_ref=Cast(OuterRef("public_id"), output_field=CharField()))
        .order_by("-created_at", "-pk")
    )
    return (
        StudyInvitation.objects.filter(agreement__partner__representatives=member)
        .select_related("agreement__partner", "tenant")
        .annotate(rejection_reason=Subquery(rejection.values("reason")[:1]))
        .distinct()
        .order_by("-created_at", "-pk")
    )


def labelled_study_ids(tenant: Tenant, public_ids: list[str]) -> list[str]:
    """Of ``public_ids``, the study invitations approved for this tenant and shown, labelled, on its
    /studies/ page (communities lets posts that link to them recruit)."""
    return [
        str(public_id)
        for public_id in StudyInvitation.objects.filter(
            tenant=tenant, status=StudyStatus.SENT, public_id__in=public_ids
        ).values_list("public_id", flat=True)
    ]
