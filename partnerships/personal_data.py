"""What partnerships hold about a member (privacy registry): the agreements' audit names staff who acted,
partners name their representatives, research agreements their named data recipients, study invitations
name who submitted and approved them.

Erasure forgets the person and keeps the record: the audit row stays, its actor becomes empty (the
append-only trigger allows exactly that change)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from members.models import Member
from partnerships.models import AgreementEvent, Partner, PartnershipAgreement, StudyInvitation
from privacy.registry import register_personal_data

STUDY_PEOPLE = ("submitted_by", "staff_approved_by", "tenant_approved_by")


def export_member_data(member: Member) -> dict[str, Any]:
    return {
        "agreement_changes_made": list(
            AgreementEvent.objects.filter(actor=member).values("created_at", "action", "reason")
        ),
        "represents_partners": list(Partner.objects.filter(representatives=member).values_list("name", flat=True)),
        "research_data_recipient_of": [
            {"agreement": str(public_id), "partner": partner}
            for public_id, partner in PartnershipAgreement.objects.filter(recipients=member).values_list(
                "public_id", "partner__name"
            )
        ],
        "study_invitations": [
            {
                "title": study.title,
                "roles": [role for role in STUDY_PEOPLE if getattr(study, f"{role}_id") == member.pk],
            }
            for study in StudyInvitation.objects.filter(
                Q(submitted_by=member) | Q(staff_approved_by=member) | Q(tenant_approved_by=member)
            )
        ],
    }


def erase_member_data(member: Member, keep_posts: bool) -> None:
    AgreementEvent.objects.filter(actor=member).update(actor=None)
    for partner in Partner.objects.filter(representatives=member):
        partner.representatives.remove(member)
    for agreement in PartnershipAgreement.objects.filter(recipients=member):
        agreement.recipients.remove(member)
    for role in STUDY_PEOPLE:
        StudyInvitation.objects.filter(**{role: member}).update(**{role: None})


def register() -> None:
    register_personal_data(
        name="partnerships",
        models=[AgreementEvent, Partner, PartnershipAgreement, StudyInvitation],
        export=export_member_data,
        erase=erase_member_data,
        schema="public",
        order=60,
    )
