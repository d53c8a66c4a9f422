from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.errors import DomainError
from themes.models import Theme
from themes.services import check_theme


class ThemeAdminForm(forms.ModelForm[Theme]):
    class Meta:
        model = Theme
        fields = [
            "tenant",
            "primary_colour",
            "secondary_colour",
            "accent_colour",
            "background_colour",
            "font_family",
            "logo_text",
            "welcome_text",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            candidate = Theme(**{name: value for name, value in cleaned.items() if name != "tenant"})
            try:
                check_theme(candidate)
            except DomainError as error:
                raise ValidationError(error.details or error.message) from error
        return cleaned


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin[Theme]):
    """Platform staff's view; partners change their theme at /manage/theme/ on their own site. Logos
    and favicons are uploaded there (checked and re-encoded by the theme service)."""

    form = ThemeAdminForm
    list_display = ["tenant", "primary_colour", "accent_colour", "updated_at"]
