"""Privacy (public schema): data exports, erasure requests and the staff-access log (issue 5)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "Being prepared"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class DataExport(models.Model):
    """One ZIP of everything a member has, built by Celery; the file lives outside MEDIA/static."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"export {self.public_id} ({self.status})"


class ErasureStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "Erasing"
    FAILED = "failed", "Stopped: will be retried"
    DONE = "done", "Erased"


class ErasureRequest(models.Model):
    """A member's account deletion, schema by schema. The Member row goes only when every schema is done.

    ``pseudonym`` is the random id that survives erasure (it is not the member's public id): what the
    law requires to keep (the consent ledger's decisions) can point at it.
    """

    pseudonym = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    keep_posts = models.BooleanField(default=False)
    requested_by_self = models.BooleanField(default=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why staff erased an account on the member's behalf (never the member's name or email: it outlives them).
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=8, choices=ErasureStatus.choices, default=ErasureStatus.PENDING)
    # {"alpha_alliance": "done", "beta_society": "failed: ...", "public": "done"}
    schema_status = models.JSONField(default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"erasure {self.pseudonym} ({self.status})"


class StaffAccess(models.Model):
    """Append-only: a staff person looked at a member's private data (who, when, why, what)."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    staff_name = models.CharField(max_length=120, help_text="Kept when the staff account is gone.")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=300)
    what = models.CharField(max_length=200)
    accessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-accessed_at", "-id"]
        indexes = [models.Index(fields=["member", "-accessed_at"])]

    def __str__(self) -> str:
        return f"{self.staff_name} read {self.what} of member {self.member_id}"
