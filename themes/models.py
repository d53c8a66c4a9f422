"""A partner's brand, injected into every page of its tenant as CSS variables."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a six-digit hex colour such as #7a3b8f.")


class Theme(models.Model):
    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="theme")
    primary_colour = models.CharField(max_length=7, default="#2f5d8a", validators=[hex_colour])
    accent_colour = models.CharField(max_length=7, default="#e07a5f", validators=[hex_colour])
    background_colour = models.CharField(max_length=7, default="#fbfaf7", validators=[hex_colour])
    font_family = models.CharField(max_length=120, default="system-ui, sans-serif")
    logo_text = models.CharField(max_length=60, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Theme of {self.tenant}"
