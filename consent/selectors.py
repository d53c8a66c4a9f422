"""Reads of consent. ``members_consenting_to`` is THE gate for every research use of member data."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from consent.models import ConsentPolicy, ConsentPurpose, ConsentRecord, ConsentSubject, Decision, PolicyPurpose
from core.errors import InvalidInput
from members.models import Member


class State:
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    RECONSENT = "needs_reconsent"
    NOT_ASKED = "not_asked"


@dataclass(frozen=True)
class PurposeState:
    purpose: ConsentPurpose
    state: str
    decided_at: datetime.datetime | None = None
    policy_version: int | None = None

    @property
    def consenting(self) -> bool:
        return self.state == State.GRANTED


def current_policy(at: datetime.datetime | None = None) -> ConsentPolicy | None:
    """The version in effect at ``at`` (now by default): the highest version already effective."""
    return ConsentPolicy.objects.filter(effective_at__lte=at or timezone.now()).order_by("-version").first()


def policy_by_version(*, version: int) -> ConsentPolicy | None:
    return ConsentPolicy.objects.filter(version=version).first()


def active_purposes() -> QuerySet[ConsentPurpose]:
    return ConsentPurpose.objects.filter(active=True)


def signup_purposes() -> list[ConsentPurpose]:
    """Active purposes the current policy covers: what a new member may tick (nothing pre-ticked)."""
    policy = current_policy()
    if policy is None:
        return []
    return list(policy.purposes.filter(active=True).order_by("position", "code"))


def _resolve(purpose: ConsentPurpose | str) -> ConsentPurpose:
    if isinstance(purpose, ConsentPurpose):
        return purpose
    found = ConsentPurpose.objects.filter(code=purpose).first()
    if found is None:
        raise InvalidInput("Unknown consent purpose.", code="unknown_purpose", details={"purpose": [str(purpose)]})
    return found


def _material_versions(at: datetime.datetime) -> dict[int, int]:
    """purpose id → the latest version already effective at ``at`` that materially changed it."""
    rows = (
        PolicyPurpose.objects.filter(material_change=True, policy__effective_at__lte=at)
        .values("purpose_id")
        .annotate(version=Max("policy__version"))
    )
    return {row["purpose_id"]: row["version"] for row in rows}


def members_consenting_to(purpose: ConsentPurpose | str, *, at: datetime.datetime | None = None) -> QuerySet[Member]:
    """THE consent gate: active members whose last decision for ``purpose`` up to ``at`` is a grant
    recorded under a version that no later effective version materially changed for that purpose.

    Every research use of member data starts from this queryset (tests/research proves it).
    """
    at = at or timezone.now()
    purpose = _resolve(purpose)
    if not purpose.active:
        return Member.objects.none()
    floor = _material_versions(at).get(purpose.pk, 0)
    last = ConsentRecord.objects.filter(subject=OuterRef("pk"), purpose=purpose, recorded_at__lte=at).order_by(
        "-recorded_at", "-id"
    )
    subjects = (
        ConsentSubject.objects.filter(member__isnull=False)
        .annotate(
            last_decision=Subquery(last.values("decision")[:1]),
            last_version=Subquery(last.values("policy__version")[:1]),
        )
        .filter(last_decision=Decision.GRANTED, last_version__gte=floor)
    )
    return Member.objects.filter(is_active=True, consent_subject__in=subjects.values("pk"))


def consent_state_for(*, member: Member, at: datetime.datetime | None = None) -> dict[str, PurposeState]:
    """purpose code → the member's state for each active purpose the policy in effect covers or the
    member decided on (derived from the ledger)."""
    at = at or timezone.now()
    policy = current_policy(at)
    covered = set(policy.policy_purposes.values_list("purpose_id", flat=True)) if policy else set()
    latest: dict[int, ConsentRecord] = {}
    subject = ConsentSubject.objects.filter(member=member).first() if member.pk else None
    if subject is not None:
        rows = (
            ConsentRecord.objects.filter(subject=subject, recorded_at__lte=at)
            .select_related("policy")
            .order_by("purpose_id", "-recorded_at", "-id")
            .distinct("purpose_id")
        )
        latest = {row.purpose_id: row for row in rows}
    floors = _material_versions(at) if latest else {}
    # What the policy in effect covers, and anything the member decided on before.
    purposes = [p for p in active_purposes() if p.pk in covered or p.pk in latest]
    states: dict[str, PurposeState] = {}
    for purpose in purposes:
        record = latest.get(purpose.pk)
        if record is None:
            states[purpose.code] = PurposeState(purpose=purpose, state=State.NOT_ASKED)
            continue
        if record.decision == Decision.WITHDRAWN:
            state = State.WITHDRAWN
        elif record.policy.version >= floors.get(purpose.pk, 0):
            state = State.GRANTED
        else:
            state = State.RECONSENT
        states[purpose.code] = PurposeState(
            purpose=purpose, state=state, decided_at=record.recorded_at, policy_version=record.policy.version
        )
    return states


def pending_reconsent(*, member: Member) -> list[ConsentPurpose]:
    """Purposes the member granted under a version that has since materially changed them."""
    return [s.purpose for s in consent_state_for(member=member).values() if s.state == State.RECONSENT]


def has_pending_reconsent(*, member: Member) -> bool:
    """The middleware's per-request check: one query, two when the member has a standing grant."""
    latest = list(
        ConsentRecord.objects.filter(subject__member=member, purpose__active=True)
        .order_by("purpose_id", "-recorded_at", "-id")
        .distinct("purpose_id")
        .values_list("purpose_id", "decision", "policy__version")
    )
    grants = [(purpose_id, version) for purpose_id, decision, version in latest if decision == Decision.GRANTED]
    if not grants:
        return False
    floors = _material_versions(timezone.now())
    return any(version < floors.get(purpose_id, 0) for purpose_id, version in grants)


def consent_records_for(*, member: Member) -> QuerySet[ConsentRecord]:
    return (
        ConsentRecord.objects.filter(subject__member=member)
        .select_related("purpose", "policy")
        .order_by("recorded_at", "id")
    )


def consent_history_for(*, member: Member) -> list[dict[str, object]]:
    """Every decision the member made (or staff recorded for them), oldest first, JSON-ready."""
    return [
        {
            "id": str(record.public_id),
            "purpose": record.purpose.code,
            "purpose_name": record.purpose.name,
            "decision": record.decision,
            "policy_version": record.policy.version,
            "recorded_at": record.recorded_at.isoformat(),
            "tenant": record.tenant_schema,
            "channel": record.channel,
            "on_behalf": record.actor_pseudonym is not None,
            "reason": record.reason,
        }
        for record in consent_records_for(member=member)
    ]


def subject_for(*, member: Member) -> ConsentSubject | None:
    return ConsentSubject.objects.filter(member=member).first()


def decision_versions(
    *, purpose: ConsentPurpose | str, member_ids: list[int], at: datetime.datetime | None = None
) -> dict[int, int]:
    """member id → the policy version of the member's last decision for ``purpose`` up to ``at``
    (for members who passed the gate: the version they granted under; a research manifest lists them)."""
    purpose = _resolve(purpose)
    rows = (
        ConsentRecord.objects.filter(
            subject__member_id__in=member_ids, purpose=purpose, recorded_at__lte=at or timezone.now()
        )
        .order_by("subject__member_id", "-recorded_at", "-id")
        .distinct("subject__member_id")
        .values_list("subject__member_id", "policy__version")
    )
    return dict(rows)
