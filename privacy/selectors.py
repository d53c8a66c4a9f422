"""Reads for privacy: a member's exports, erasure requests and who accessed their data."""

from __future__ import annotations

from django.db.models import QuerySet

from members.models import Member
from privacy.models import DataExport, ErasureRequest, StaffAccess


def exports_for(*, member: Member) -> QuerySet[DataExport]:
    return DataExport.objects.filter(member_id=member.pk).order_by("-created_at", "-id")


def export_of(*, member: Member, public_id: str) -> DataExport | None:
    """The member's own export; another member's id reads as missing."""
    return DataExport.objects.filter(member_id=member.pk, public_id=public_id).first()


def staff_access_for(*, member: Member) -> QuerySet[StaffAccess]:
    return StaffAccess.objects.filter(member_id=member.pk).order_by("-accessed_at", "-id")


def open_erasure_for(*, member: Member) -> ErasureRequest | None:
    return ErasureRequest.objects.filter(member_id=member.pk).exclude(status="done").first()
