"""API clients (public schema): personal access tokens and partners' service tokens.

A token is bound to one tenant and acts as one Member: the member who made it (personal) or a
service principal that belongs to that tenant only (service). Only a SHA-256 digest of the token
is stored, with a short prefix in clear to name it in lists; the token itself is shown once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TokenKind(models.TextChoices):
    PERSONAL = "personal", "Personal access token"
    SERVICE = "service", "Service token"


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    MODERATE = "moderate", "Moderate"
    ADMIN = "admin", "Administer"


class ServiceAccount(models.Model):
    """A partner's own system: a non-human principal whose only membership is its tenant's."""

    member = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"service {self.name}"


class ApiToken(models.Model):
    kind = models.CharField(max_length=8, choices=TokenKind.choices)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    service_account = models.ForeignKey(
        ServiceAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "member"], name="apitoken_tenant_member")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class TokenAction(models.TextChoices):
    CREATED = "created", "Created"
    REVOKED = "revoked", "Revoked"


class ApiTokenEvent(models.Model):
    """Append-only audit of token creation and revocation (who, what, when, where)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="events")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=8, choices=TokenAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_prefix = models.CharField(max_length=16)
    scopes = models.JSONField(default=list)
    via = models.CharField(max_length=8, help_text="web or api")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.token_prefix}…"
