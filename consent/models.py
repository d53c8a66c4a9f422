"""Consent policy versions and the append-only consent ledger (public schema); see issue 5.

A member's consent is never stored as a flag: it is derived from the ledger (``ConsentRecord``), one
row per decision. The ledger points at a ``ConsentSubject`` (a pseudonym), never at a Member, so an
erased member's decisions and dates stay on record without their identity.
"""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


class LedgerIsAppendOnly(Exception):
    """Raised when code tries to change or remove a ledger row (the database refuses too)."""


class FhirScope(models.TextChoices):
    RESEARCH = "research", "Research"
    PATIENT_PRIVACY = "patient-privacy", "Privacy consent"


class ConsentPurpose(models.Model):
    """One explicit, separate thing a member can agree to (never pre-ticked)."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField()
    active = models.BooleanField(default=True)
    fhir_scope = models.CharField(max_length=20, choices=FhirScope.choices, default=FhirScope.PATIENT_PRIVACY)
    # A code of http://terminology.hl7.org/CodeSystem/v3-ActReason (HRESCH: healthcare research).
    act_reason = models.CharField(max_length=20, default="HRESCH")
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class ConsentPolicy(models.Model):
    """A published policy version. Versions only grow; a published version is never edited."""

    version = models.PositiveIntegerField(unique=True)
    text_markdown = models.TextField()
    text_html = models.TextField()
    effective_at = models.DateTimeField()
    change_summary = models.TextField(blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)
    purposes: models.ManyToManyField[ConsentPurpose, PolicyPurpose] = models.ManyToManyField(
        ConsentPurpose, through="PolicyPurpose", related_name="policies"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name_plural = "consent policies"

    def __str__(self) -> str:
        return f"Policy v{self.version} (effective {self.effective_at:%Y-%m-%d})"


class PolicyPurpose(models.Model):
    """A purpose a policy version covers; ``material_change`` asks earlier consenters again."""

    policy = models.ForeignKey(ConsentPolicy, on_delete=models.CASCADE, related_name="policy_purposes")
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="policy_purposes")
    material_change = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "purpose"], name="one_row_per_policy_purpose")]

    def __str__(self) -> str:
        return f"{self.purpose.code} in v{self.policy.version}{' (material change)' if self.material_change else ''}"


class ConsentSubject(models.Model):
    """The ledger's stand-in for a member; erasure detaches the member and keeps the pseudonym."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent_subject"
    )
    pseudonym = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"subject {self.pseudonym}"


class Decision(models.TextChoices):
    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    ADMIN = "admin", "Staff on the member's behalf"
    SIGNUP = "signup", "Sign-up"


class ConsentRecordQuerySet(models.QuerySet["ConsentRecord"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly("Consent records cannot be changed.")

    def delete(self) -> NoReturn:
        raise LedgerIsAppendOnly("Consent records cannot be deleted.")


class ConsentRecord(models.Model):
    """One decision: append-only (a PostgreSQL trigger refuses UPDATE, DELETE and TRUNCATE)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.ForeignKey(ConsentSubject, on_delete=models.PROTECT, related_name="records")
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="records")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    policy = models.ForeignKey(ConsentPolicy, on_delete=models.PROTECT, related_name="records")
    recorded_at = models.DateTimeField(default=timezone.now)
    # Where: the tenant's schema name ("" = the root domain) and the channel.
    tenant_schema = models.CharField(max_length=63, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Staff acting on the member's behalf: the staff member's own consent pseudonym and why.
    actor_pseudonym = models.UUIDField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["subject", "purpose", "recorded_at"])]
        default_permissions = ("add", "view")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(channel="admin") | (models.Q(actor_pseudonym__isnull=False) & ~models.Q(reason="")),
                name="on_behalf_needs_actor_and_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.purpose_id} by {self.subject_id} at {self.recorded_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise LedgerIsAppendOnly("Consent records cannot be changed; record a new decision instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly("Consent records cannot be deleted.")
