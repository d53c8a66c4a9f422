"""Reads for research: who may run and pull exports, which releases a person may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from partnerships.models import AgreementKind, AgreementStatus, PartnershipAgreement
from research.models import ExportStatus, ReleaseInclusion, ResearchEvent, ResearchExport

RUN_PERMISSION = "research.run_research_exports"


def can_run_exports(member: Any) -> bool:
    """Named research staff: active platform staff holding the research permission (superusers hold all)."""
    return bool(
        member is not None
        and getattr(member, "is_authenticated", False)
        and member.is_active
        and member.is_staff
        and member.has_perm(RUN_PERMISSION)
    )


def is_recipient(member: Any, agreement: PartnershipAgreement) -> bool:
    """One of the people staff named as the agreement's recipients (``PartnershipAgreement.recipients``),
    while it is an active research agreement. Being the partner's representative is not enough."""
    if member is None or not getattr(member, "is_authenticated", False) or not member.is_active:
        return False
    if agreement.kind != AgreementKind.RESEARCH or agreement.status != AgreementStatus.ACTIVE:
        return False
    return agreement.recipients.filter(pk=member.pk).exists()


def exports_visible_to(*, member: Any) -> QuerySet[ResearchExport]:
    """Named staff see every export; recipients see the ready releases of their active agreements."""
    exports = ResearchExport.objects.select_related("agreement__partner").prefetch_related("tenants", "files")
    if can_run_exports(member):
        return exports
    if member is None or not getattr(member, "is_authenticated", False) or not member.is_active:
        return exports.none()
    return exports.filter(
        status=ExportStatus.READY,
        agreement__kind=AgreementKind.RESEARCH,
        agreement__status=AgreementStatus.ACTIVE,
        agreement__recipients=member,
    ).distinct()


def release_for(*, member: Any, public_id: Any) -> ResearchExport | None:
    return exports_visible_to(member=member).filter(public_id=public_id).first()


def research_agreements() -> QuerySet[PartnershipAgreement]:
    return (
        PartnershipAgreement.objects.filter(kind=AgreementKind.RESEARCH)
        .select_related("partner")
        .prefetch_related("tenants", "conditions")
    )


def releases_including(*, member: Any) -> list[dict[str, Any]]:
    """The releases that included this member's data, newest first (what their privacy page lists)."""
    inclusions = (
        ReleaseInclusion.objects.filter(member_id=member.pk, export__status=ExportStatus.READY)
        .select_related("export__agreement__partner")
        .order_by("-export__finished_at", "-export_id")
    )
    return [
        {
            "release": str(inclusion.export.public_id),
            "title": inclusion.export.title,
            "partner": inclusion.export.agreement.partner.name,
            "released_at": inclusion.export.finished_at,
            "posts": inclusion.posts,
            "datasets": list(inclusion.export.datasets),
        }
        for inclusion in inclusions
    ]


def events_for(*, export: ResearchExport) -> QuerySet[ResearchEvent]:
    return ResearchEvent.objects.filter(Q(export=export)).select_related("actor").order_by("-created_at", "-pk")
