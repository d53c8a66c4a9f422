"""Research exports (public schema): definitions, their encrypted files, who was included, and the audit.

Every write goes through ``research.services``. Files live under ``KINDRED_RESEARCH_DIR`` encrypted
(Fernet, key from ``KINDRED_RESEARCH_KEY``); rows here only point at them.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

DEFAULT_K = 11
MIN_K = 5


class Dataset(models.TextChoices):
    MEMBER_ATTRIBUTES = "member_attributes", "Member attributes (age band, sex, region, role, conditions)"
    POST_TEXTS = "post_texts", "Post texts (scrubbed of direct identifiers)"
    ACTIVITY_COUNTS = "activity_counts", "Reaction and activity counts"
    TAGS = "tags", "Tags of topics"


class ExportKind(models.TextChoices):
    RELEASE = "release", "Release (defined by staff, downloaded by the agreement's recipients)"
    PULL = "pull", "Quick dataset pull (member attributes, returned to the recipient who pulled it)"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class AgreementKey(models.Model):
    """The per-agreement pseudonym secret, stored encrypted with the settings key (never in clear)."""

    agreement = models.OneToOneField(
        "partnerships.PartnershipAgreement", on_delete=models.PROTECT, related_name="research_key"
    )
    encrypted_secret = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"pseudonym key of agreement {self.agreement_id}"


class ResearchExport(models.Model):
    """One release under a research agreement: what was asked for, how far it got, what it produced."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agreement = models.ForeignKey(
        "partnerships.PartnershipAgreement", on_delete=models.PROTECT, related_name="research_exports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=8, choices=ExportKind.choices, default=ExportKind.RELEASE)
    tenants = models.ManyToManyField("tenants.Tenant", related_name="+")
    conditions: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "conditions.Condition", blank=True, related_name="+"
    )
    community_slugs = models.JSONField(default=list, blank=True)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    datasets = models.JSONField(default=list)
    k = models.PositiveSmallIntegerField(default=DEFAULT_K)
    status = models.CharField(max_length=8, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    # The moment consent is judged at: fixed when the run first starts, so a re-run (acks_late) is identical.
    consent_at = models.DateTimeField(null=True, blank=True)
    # A pull may ask for an earlier moment too: then a member must have consented then AND now.
    consent_also_at = models.DateTimeField(null=True, blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("run_research_exports", "Can define, run and pull research exports (named staff)")]

    def __str__(self) -> str:
        return f"research export {self.public_id} ({self.status})"


class ExportFile(models.Model):
    export = models.ForeignKey(ResearchExport, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=80)
    path = models.CharField(max_length=500)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, help_text="Of the plaintext, as the manifest lists it.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["export", "name"]
        constraints = [models.UniqueConstraint(fields=["export", "name"], name="one_research_file_per_name")]

    def __str__(self) -> str:
        return f"{self.name} of {self.export_id}"


class ReleaseInclusion(models.Model):
    """This member's data is in this release (what the member sees on their privacy page)."""

    export = models.ForeignKey(ResearchExport, on_delete=models.CASCADE, related_name="inclusions")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    posts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["export", "member"], name="one_inclusion_per_member")]

    def __str__(self) -> str:
        return f"member {self.member_id} in export {self.export_id}"


class ResearchEvent(models.Model):
    """Append-only audit of research work: definitions, refusals, runs, pulls, links and downloads."""

    agreement = models.ForeignKey(
        "partnerships.PartnershipAgreement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    export = models.ForeignKey(ResearchExport, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "web", "api", "command", "worker"
    channel = models.CharField(max_length=10)
    action = models.CharField(max_length=30)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} ({self.channel})"
