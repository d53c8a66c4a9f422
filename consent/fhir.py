"""A member's consent history as a FHIR R4 Bundle of Consent resources (hl7.org/fhir/R4/consent.html).

One Consent per ledger decision. A grant that is still the member's answer is ``active`` (provision
``permit``); a withdrawal that is still their answer is ``rejected`` (provision ``deny``); a decision
that a later one replaced, or that a material policy change voided, is ``inactive`` with the end of its
period. Each resource has the R4 required elements (status, scope, category) and satisfies ppc-1 to
ppc-3 (a policy reference and a patient, here the member's pseudonym, never their identity).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from consent.models import ConsentRecord, Decision, PolicyPurpose
from members.models import Member

CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC = "http://loinc.org"
ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PSEUDONYM_SYSTEM = "urn:ietf:rfc:3986"
SCOPE_DISPLAY = {"research": "Research", "patient-privacy": "Privacy Consent"}
ACT_REASON_DISPLAY = {
    "HRESCH": "healthcare research",
    "CLINTRCH": "clinical trial research",
    "HMARKT": "healthcare marketing",
}


def purpose_code_system() -> str:
    return f"{settings.ROOT_URL}/consent/purposes"


def policy_uri(version: int) -> str:
    return f"{settings.ROOT_URL}/consent/policy/{version}/"


def _instant(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _voided_at(record: ConsentRecord, material: list[tuple[int, datetime.datetime, int]]) -> datetime.datetime | None:
    """When a later material change of the record's purpose took effect (None if none did yet)."""
    now = timezone.now()
    for version, effective_at, purpose_id in material:
        if purpose_id == record.purpose_id and version > record.policy.version and effective_at <= now:
            return effective_at
    return None


def consent_resources_for(*, member: Member) -> list[dict[str, Any]]:
    records = list(
        ConsentRecord.objects.filter(subject__member=member)
        .select_related("purpose", "policy", "subject")
        .order_by("recorded_at", "id")
    )
    material = [
        (row.policy.version, row.policy.effective_at, row.purpose_id)
        for row in PolicyPurpose.objects.filter(material_change=True)
        .select_related("policy")
        .order_by("policy__version")
    ]
    resources: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        following = next((r for r in records[index + 1 :] if r.purpose_id == record.purpose_id), None)
        end = following.recorded_at if following is not None else None
        granted = record.decision == Decision.GRANTED
        if granted:
            voided = _voided_at(record, material)
            if voided is not None and (end is None or voided < end):
                end = voided
        status = "inactive" if end is not None else ("active" if granted else "rejected")
        purpose = record.purpose
        period: dict[str, str] = {"start": _instant(record.recorded_at)}
        if end is not None:
            period["end"] = _instant(end)
        resources.append(
            {
                "resourceType": "Consent",
                "id": str(record.public_id),
                "status": status,
                "scope": {
                    "coding": [
                        {
                            "system": CONSENT_SCOPE_SYSTEM,
                            "code": purpose.fhir_scope,
                            "display": SCOPE_DISPLAY.get(purpose.fhir_scope, purpose.fhir_scope),
                        }
                    ]
                },
                "category": [
                    {"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]},
                    {"coding": [{"system": purpose_code_system(), "code": purpose.code, "display": purpose.name}]},
                ],
                "patient": {
                    "identifier": {"system": PSEUDONYM_SYSTEM, "value": f"urn:uuid:{record.subject.pseudonym}"},
                    "display": "Kindred member (pseudonymous)",
                },
                "dateTime": _instant(record.recorded_at),
                "policy": [{"uri": policy_uri(record.policy.version)}],
                "provision": {
                    "type": "permit" if granted else "deny",
                    "period": period,
                    "purpose": [
                        {
                            "system": ACT_REASON_SYSTEM,
                            "code": purpose.act_reason,
                            "display": ACT_REASON_DISPLAY.get(purpose.act_reason, purpose.act_reason),
                        }
                    ],
                },
            }
        )
    return resources


def consent_bundle_for(*, member: Member) -> dict[str, Any]:
    resources = consent_resources_for(member=member)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(timezone.now()),
        "entry": [{"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource} for resource in resources],
    }
