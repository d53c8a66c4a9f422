"""A partner's brand, injected into every page of its tenant as CSS variables."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.core.validators import RegexValidator
from django.db import models

from themes.contrast import MUTED_TEXT_COLOUR, ON_BRAND_TEXT, TEXT_COLOUR

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a six-digit hex colour such as #7a3b8f.")

# The safe list of fonts: system font stacks only (no web-font files to fetch, nothing a CSP must
# allow, nothing that can inject CSS). The stack is what the page's CSS variable receives.
FONT_STACKS: dict[str, str] = {
    "system-ui, sans-serif": "System font (the device's own)",
    "Arial, Helvetica, sans-serif": "Arial / Helvetica",
    "Verdana, Geneva, sans-serif": "Verdana (wide, very legible)",
    "Trebuchet MS, Helvetica, sans-serif": "Trebuchet MS",
    "Tahoma, Verdana, sans-serif": "Tahoma",
    "Georgia, Times New Roman, serif": "Georgia (serif)",
    "Palatino Linotype, Book Antiqua, Palatino, serif": "Palatino (serif)",
}
FONT_CHOICES = list(FONT_STACKS.items())
DEFAULT_FONT = "system-ui, sans-serif"
__all__ = ["MUTED_TEXT_COLOUR", "ON_BRAND_TEXT", "TEXT_COLOUR", "Theme"]

DEFAULT_PRIMARY = "#2f5d8a"
DEFAULT_SECONDARY = "#3d4f63"
DEFAULT_ACCENT = "#b9472a"
DEFAULT_BACKGROUND = "#fbfaf7"


def theme_storage() -> Storage:
    """Logos and favicons: under MEDIA_ROOT/themes/<schema>/, one folder per tenant. Served only by
    themes.views (a tenant's own host, or the root's partner list), never as a browsable folder."""
    return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "themes", base_url=None)


def theme_asset_path(instance: Theme, filename: str) -> str:
    return f"{instance.tenant.schema_name}/{filename}"


class Theme(models.Model):
    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="theme")
    primary_colour = models.CharField(max_length=7, default=DEFAULT_PRIMARY, validators=[hex_colour])
    secondary_colour = models.CharField(max_length=7, default=DEFAULT_SECONDARY, validators=[hex_colour])
    accent_colour = models.CharField(max_length=7, default=DEFAULT_ACCENT, validators=[hex_colour])
    background_colour = models.CharField(max_length=7, default=DEFAULT_BACKGROUND, validators=[hex_colour])
    font_family = models.CharField(max_length=120, default=DEFAULT_FONT, choices=FONT_CHOICES)
    logo_text = models.CharField(max_length=60, blank=True)
    welcome_text = models.CharField(max_length=500, blank=True)
    logo = models.FileField(storage=theme_storage, upload_to=theme_asset_path, blank=True, max_length=200)
    favicon = models.FileField(storage=theme_storage, upload_to=theme_asset_path, blank=True, max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Theme of {self.tenant}"

    @property
    def version(self) -> str:
        """Changes with every save: asset URLs carry it, so a new logo shows at once."""
        return str(int(self.updated_at.timestamp())) if self.updated_at else "0"
