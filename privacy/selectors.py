"""Reads for privacy: a member's exports, erasure requests and who accessed their data."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from members.models import Member
from privacy.models import DataExport, ErasureRequest, StaffAccess
from privacy.registry import member_reference_columns


def exports_for(*, member: Member) -> QuerySet[DataExport]:
    return DataExport.objects.filter(member_id=member.pk).order_by("-created_at", "-id")


def export_of(*, member: Member, public_id: str) -> DataExport | None:
    """The member's own export; another member's id reads as missing."""
    return DataExport.objects.filter(member_id=member.pk, public_id=public_id).first()


def staff_access_for(*, member: Member) -> QuerySet[StaffAccess]:
    return StaffAccess.objects.filter(member_id=member.pk).order_by("-accessed_at", "-id")


def open_erasure_for(*, member: Member) -> ErasureRequest | None:
    return ErasureRequest.objects.filter(member_id=member.pk).exclude(status="done").first()


def remaining_member_references(*, member_id: int) -> list[str]:
    """The "table.column" of every table in the current schema that still holds ``member_id``.

    Tenant schemas have no foreign-key constraints into public (they cost every member insert and
    delete a trigger per tenant), so nothing in the database stops a row from outliving its member:
    erasure asks this in each schema before it reports the schema done. The columns come from model
    meta (``privacy.registry.member_reference_columns``): tenant apps' tables in a tenant schema,
    shared apps' tables in public. One query per schema (Django indexes a foreign key's column with or
    without its constraint)."""
    schema = getattr(connection, "schema_name", "public")
    columns = member_reference_columns(schema="public" if schema == "public" else "tenant")
    if not columns:
        return []
    quote = connection.ops.quote_name
    checks = [
        # Quoted names from model meta and the connection's schema; the values are parameters.
        f"SELECT %s::text WHERE EXISTS (SELECT 1 FROM {quote(schema)}.{quote(table)} WHERE {quote(column)} = %s)"  # noqa: S608
        for table, column in columns
    ]
    params: list[str | int] = []
    for table, column in columns:
        params += [f"{table}.{column}", member_id]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(checks), params)
        return sorted(row[0] for row in cursor.fetchall())
