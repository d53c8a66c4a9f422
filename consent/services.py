"""Writes for consent: publishing policy versions and appending decisions to the ledger."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from consent.markdown import render_policy_markdown
from consent.models import (
    Channel,
    ConsentPolicy,
    ConsentPurpose,
    ConsentRecord,
    ConsentSubject,
    Decision,
    FhirScope,
    PolicyPurpose,
)
from core.errors import Conflict, InvalidInput, NotAllowed
from members.models import Member
from tenants.models import Tenant


def ensure_subject(*, member: Member) -> ConsentSubject:
    """The member's pseudonymous ledger subject (created on first use)."""
    subject = ConsentSubject.objects.filter(member=member).first()
    if subject is not None:
        return subject
    try:
        with transaction.atomic():
            return ConsentSubject.objects.create(member=member)
    except IntegrityError:  # a concurrent request created it first
        return ConsentSubject.objects.get(member=member)


def detach_member(*, member: Member) -> ConsentSubject | None:
    """For erasure: the ledger keeps the pseudonym, decisions and dates, and forgets who it was.

    Returns the detached subject (None if the member never had one). Safe to run twice.
    """
    subject = ConsentSubject.objects.filter(member=member).first()
    if subject is None:
        return None
    ConsentSubject.objects.filter(pk=subject.pk).update(member=None)
    subject.member = None
    return subject


def forget_policy_publisher(*, member: Member) -> int:
    """For erasure: policies the member published (as staff) keep their text and dates, not their name."""
    return ConsentPolicy.objects.filter(published_by_id=member.pk).update(published_by=None)


@transaction.atomic
def publish_policy(
    *,
    text_markdown: str,
    effective_at: datetime.datetime,
    change_summary: str,
    purposes: Iterable[ConsentPurpose],
    material_changes: Iterable[ConsentPurpose] = (),
    published_by: Member | None = None,
    version: int | None = None,
) -> ConsentPolicy:
    """Publish the next policy version covering ``purposes``; ``material_changes`` ⊆ ``purposes``.

    Members who consented to a materially changed purpose under an earlier version are asked again
    from ``effective_at`` on and count as not consenting for it until they answer.
    """
    purposes = list(dict.fromkeys(purposes))
    material = list(dict.fromkeys(material_changes))
    errors: dict[str, list[str]] = {}
    if not text_markdown.strip():
        errors["text_markdown"] = ["The policy text is required."]
    if not purposes:
        errors["purposes"] = ["A policy covers at least one purpose."]
    if any(p not in purposes for p in material):
        errors["material_changes"] = ["A materially changed purpose must be one the policy covers."]
    if any(not p.active for p in purposes):
        errors["purposes"] = ["Only active purposes can be covered."]
    if effective_at is None or timezone.is_naive(effective_at):
        errors["effective_at"] = ["Give the effective date with a time zone."]
    # Serialize publishers: versions and effective dates only grow.
    ConsentPolicy.objects.select_for_update().order_by("-version").first()
    latest = ConsentPolicy.objects.order_by("-version").first()
    next_version = (latest.version + 1) if latest else 1
    if version is not None and version != next_version:
        errors["version"] = [f"The next version is {next_version}."]
    if latest is not None and effective_at is not None and effective_at < latest.effective_at:
        errors["effective_at"] = [f"Version {next_version} cannot take effect before version {latest.version}."]
    if material and latest is None:
        errors["material_changes"] = ["The first version has nothing to change."]
    if errors:
        raise InvalidInput("The policy cannot be published.", details=errors)
    try:
        with transaction.atomic():
            policy = ConsentPolicy.objects.create(
                version=next_version,
                text_markdown=text_markdown,
                text_html=render_policy_markdown(text_markdown),
                effective_at=effective_at,
                change_summary=change_summary.strip(),
                published_by=published_by,
            )
    except IntegrityError as exc:  # another first version was published at the same moment
        raise Conflict(
            "Another version was published at the same time; reload and try again.", code="version_taken"
        ) from exc
    PolicyPurpose.objects.bulk_create(
        PolicyPurpose(policy=policy, purpose=purpose, material_change=purpose in material) for purpose in purposes
    )
    return policy


def _policy_at(at: datetime.datetime) -> ConsentPolicy | None:
    return ConsentPolicy.objects.filter(effective_at__lte=at).order_by("-version").first()


def record_consent(
    *,
    member: Member,
    purpose: ConsentPurpose | str,
    granted: bool,
    channel: str,
    tenant: Tenant | None = None,
    actor: Member | None = None,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> ConsentRecord:
    """Append one decision to the ledger. ``now`` exists for imports and tests, never for the API."""
    return record_consents(
        member=member,
        decisions={purpose: granted},
        channel=channel,
        tenant=tenant,
        actor=actor,
        reason=reason,
        now=now,
    )[0]


@transaction.atomic
def record_consents(
    *,
    member: Member,
    decisions: dict[ConsentPurpose | str, bool],
    channel: str,
    tenant: Tenant | None = None,
    actor: Member | None = None,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> list[ConsentRecord]:
    """Append several decisions at once (sign-up, the re-consent page), all under the current policy."""
    now = now or timezone.now()
    reason = reason.strip()
    if channel not in Channel.values:
        raise InvalidInput("Unknown channel.", details={"channel": [f"Choose one of: {', '.join(Channel.values)}."]})
    if channel == Channel.ADMIN:
        if actor is None or not actor.is_staff:
            raise NotAllowed("Only platform staff can record a decision on a member's behalf.")
        if not reason:
            raise InvalidInput(
                "Say why you record this on the member's behalf.", details={"reason": ["A reason is required."]}
            )
        # The ledger outlives erasure and cannot be edited: it must not hold who the member is.
        identifying = [member.email, member.display_name.strip()]
        if any(value and value.lower() in reason.lower() for value in identifying):
            raise InvalidInput(
                "Leave the member's name and email out of the reason: the ledger keeps it after erasure.",
                details={"reason": ["Do not name the member."]},
            )
    elif actor is not None and actor.pk != member.pk:
        raise NotAllowed("Only the member decides, except staff recording on their behalf.")
    if not decisions:
        raise InvalidInput("No decision given.", details={"purpose": ["Choose a purpose."]})
    policy = _policy_at(now)
    if policy is None:
        raise Conflict("No consent policy is in effect yet.", code="no_policy")
    covered = {pp.purpose.code: pp.purpose for pp in policy.policy_purposes.select_related("purpose")}
    resolved: list[tuple[ConsentPurpose, bool]] = []
    for key, granted in decisions.items():
        code = key.code if isinstance(key, ConsentPurpose) else str(key)
        purpose = covered.get(code)
        if purpose is None or not purpose.active:
            raise InvalidInput(
                "This purpose is not part of the current policy.", details={"purpose": [f"Unknown purpose: {code}."]}
            )
        resolved.append((purpose, bool(granted)))
    subject = ensure_subject(member=member)
    actor_pseudonym = ensure_subject(member=actor).pseudonym if channel == Channel.ADMIN and actor else None
    records = [
        ConsentRecord(
            subject=subject,
            purpose=purpose,
            decision=Decision.GRANTED if granted else Decision.WITHDRAWN,
            policy=policy,
            recorded_at=now,
            tenant_schema=tenant.schema_name if tenant is not None and tenant.schema_name != "public" else "",
            channel=channel,
            actor_pseudonym=actor_pseudonym,
            reason=reason if channel == Channel.ADMIN else "",
        )
        for purpose, granted in resolved
    ]
    for record in records:
        record.save()
    return records


def add_purpose(
    *, code: str, name: str, description: str, fhir_scope: str = "patient-privacy", act_reason: str = "HRESCH"
) -> ConsentPurpose:
    """Staff add a purpose; members are asked about it once a published version covers it."""
    code = (code or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if not code or slugify(code) != code:
        errors["code"] = ["Use lowercase letters, digits and hyphens."]
    elif ConsentPurpose.objects.filter(code=code).exists():
        errors["code"] = ["A purpose with this code exists."]
    if not name.strip():
        errors["name"] = ["A name is required."]
    if not description.strip():
        errors["description"] = ["Describe what the member agrees to."]
    if fhir_scope not in FhirScope.values:
        errors["fhir_scope"] = [f"Choose one of: {', '.join(FhirScope.values)}."]
    if not act_reason.strip().isalnum():
        errors["act_reason"] = ["Give a v3-ActReason code such as HRESCH."]
    if errors:
        raise InvalidInput("The purpose cannot be added.", details=errors)
    position = (ConsentPurpose.objects.aggregate(p=Max("position"))["p"] or 0) + 10
    try:
        with transaction.atomic():
            return ConsentPurpose.objects.create(
                code=code,
                name=name.strip()[:120],
                description=description.strip(),
                fhir_scope=fhir_scope,
                act_reason=act_reason.strip().upper(),
                position=position,
            )
    except IntegrityError as exc:
        raise Conflict("A purpose with this code exists.", details={"code": ["Already exists."]}) from exc


def update_purpose(
    *,
    purpose: ConsentPurpose,
    name: str,
    description: str,
    active: bool,
    fhir_scope: str,
    act_reason: str,
    position: int,
) -> ConsentPurpose:
    """Staff edit a purpose's wording or retire it; its code, which decisions refer to, never changes.

    A change of meaning belongs in a new policy version marked as a material change for the purpose.
    """
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["A name is required."]
    if not description.strip():
        errors["description"] = ["Describe what the member agrees to."]
    if fhir_scope not in FhirScope.values:
        errors["fhir_scope"] = [f"Choose one of: {', '.join(FhirScope.values)}."]
    if errors:
        raise InvalidInput("The purpose cannot be saved.", details=errors)
    ConsentPurpose.objects.filter(pk=purpose.pk).update(
        name=name.strip()[:120],
        description=description.strip(),
        active=active,
        fhir_scope=fhir_scope,
        act_reason=act_reason.strip().upper(),
        position=position,
    )
    purpose.refresh_from_db()
    return purpose
