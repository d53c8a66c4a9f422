"""Writes of themes: provisioning's defaults, and the tenant admin's changes (colours checked for
WCAG 2.2 AA contrast, images checked and re-encoded)."""

from __future__ import annotations

import io
import secrets
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from core.errors import InvalidInput, NotAllowed
from members.selectors import can_administer_tenant
from themes.contrast import HEX, theme_checks
from themes.models import FONT_STACKS, Theme

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from members.models import Member
    from tenants.models import Tenant

COLOUR_FIELDS = ("primary_colour", "secondary_colour", "accent_colour", "background_colour")
TEXT_FIELDS = {"logo_text": 60, "welcome_text": 500}
IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}  # never SVG: it can carry script
MAX_IMAGE_BYTES = 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
LOGO_BOX = (800, 240)  # the logo is scaled down to fit, keeping its shape
FAVICON_BOX = (64, 64)


def ensure_theme(*, tenant: Tenant, **colours: Any) -> Theme:
    """Give a tenant its theme (idempotent); provisioning calls this with the partner's colours.
    Provisioning is staff's own input: the contrast check applies to it too."""
    defaults = {"logo_text": tenant.name, **colours}
    theme = Theme.objects.filter(tenant=tenant).first()
    if theme is None:
        theme = Theme(tenant=tenant, **defaults)
    elif colours:
        for field, value in colours.items():
            setattr(theme, field, value)
    else:
        return theme
    check_theme(theme)
    theme.save()
    return theme


def update_theme(
    *,
    acting_member: Member,
    tenant: Tenant,
    changes: dict[str, str],
    logo: UploadedFile | None = None,
    favicon: UploadedFile | None = None,
    remove_logo: bool = False,
    remove_favicon: bool = False,
) -> Theme:
    """A tenant admin's change to their own theme (platform staff may change any). Unknown fields are
    refused; colour pairs below WCAG 2.2 AA are refused with the measured ratio and the nearest shade
    that passes. The change shows on the next page load (nothing caches the theme)."""
    if not can_administer_tenant(member=acting_member, tenant=tenant):
        raise NotAllowed("Only this site's admins can change its theme.", code="theme_forbidden")
    unknown = set(changes) - set(COLOUR_FIELDS) - set(TEXT_FIELDS) - {"font_family"}
    if unknown:
        raise InvalidInput(
            "Unknown theme fields.", code="theme_invalid", details={field: ["Unknown field."] for field in unknown}
        )
    with transaction.atomic():
        theme = Theme.objects.select_for_update().filter(tenant=tenant).first() or Theme(
            tenant=tenant, logo_text=tenant.name
        )
        for field, value in changes.items():
            setattr(theme, field, value.strip().lower() if field in COLOUR_FIELDS else value.strip())
        check_theme(theme)
        old_files = []
        if logo is not None:
            old_files.append(theme.logo.name)
            theme.logo.save(_asset_name("logo"), _reencoded(logo, field="logo", box=LOGO_BOX), save=False)
        elif remove_logo and theme.logo:
            old_files.append(theme.logo.name)
            theme.logo = None
        if favicon is not None:
            old_files.append(theme.favicon.name)
            image = _reencoded(favicon, field="favicon", box=FAVICON_BOX, square=True)
            theme.favicon.save(_asset_name("favicon"), image, save=False)
        elif remove_favicon and theme.favicon:
            old_files.append(theme.favicon.name)
            theme.favicon = None
        theme.save()
        storage = theme.logo.storage
        for name in old_files:
            if name:
                transaction.on_commit(partial(storage.delete, name))
    return theme


def check_theme(theme: Theme) -> None:
    errors: dict[str, list[str]] = {}
    for field in COLOUR_FIELDS:
        value = getattr(theme, field) or ""
        if not HEX.match(value):
            errors.setdefault(field, []).append("Use a six-digit hex colour such as #7a3b8f.")
    if theme.font_family not in FONT_STACKS:
        errors.setdefault("font_family", []).append("Choose one of the listed fonts.")
    for field, limit in TEXT_FIELDS.items():
        if len(getattr(theme, field) or "") > limit:
            errors.setdefault(field, []).append(f"At most {limit} characters.")
    if errors:
        raise InvalidInput("Some theme values are not valid.", code="theme_invalid", details=errors)
    failing = [
        check
        for check in theme_checks(
            primary=theme.primary_colour,
            secondary=theme.secondary_colour,
            accent=theme.accent_colour,
            background=theme.background_colour,
        )
        if not check.passes
    ]
    if failing:
        details: dict[str, list[str]] = {}
        for check in failing:
            details.setdefault(check.field, []).append(check.message)
        raise InvalidInput(
            "Some colours are too hard to read: " + " ".join(check.message for check in failing),
            code="theme_contrast",
            details=details,
        )


def _asset_name(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(6)}.png"


def _reencoded(upload: UploadedFile, *, field: str, box: tuple[int, int], square: bool = False) -> ContentFile[bytes]:
    """The upload as a fresh PNG no larger than ``box``: whatever else the file carried (metadata,
    trailing bytes, a second image) is dropped. Refuses what is not a small PNG, JPEG, GIF or WebP."""

    def refuse(message: str) -> InvalidInput:
        return InvalidInput(message, code="theme_image_invalid", details={field: [message]})

    if (upload.size or 0) > MAX_IMAGE_BYTES:
        raise refuse(f"The image is larger than {MAX_IMAGE_BYTES // 1024} KB.")
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            probe.verify()
        if image_format not in IMAGE_FORMATS:
            raise refuse("Upload a PNG, JPEG, GIF or WebP image.")
        if width * height > MAX_IMAGE_PIXELS:
            raise refuse("The image has too many pixels.")
        if square and not (0.8 <= width / height <= 1.25):
            raise refuse("A favicon must be square (or nearly).")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            converted = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, ValidationError) as exc:
        raise refuse("That file is not an image we can read.") from exc
    converted.thumbnail(box)
    out = io.BytesIO()
    converted.save(out, format="PNG", optimize=True)
    return ContentFile(out.getvalue())
