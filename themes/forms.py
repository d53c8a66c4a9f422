from __future__ import annotations

from typing import Any

from django import forms

from themes.models import FONT_CHOICES

COLOUR_WIDGET = forms.TextInput(attrs={"type": "color"})


class ThemeForm(forms.Form):
    primary_colour = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$",
        widget=COLOUR_WIDGET,
        help_text="Header, buttons and links. White text sits on it.",
    )
    secondary_colour = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$", widget=COLOUR_WIDGET, help_text="The footer. White text sits on it."
    )
    accent_colour = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$",
        widget=COLOUR_WIDGET,
        help_text="Question badges and highlights. White text sits on it.",
    )
    background_colour = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$", widget=COLOUR_WIDGET, help_text="The page behind the text."
    )
    font_family = forms.ChoiceField(choices=FONT_CHOICES, label="Font")
    logo_text = forms.CharField(
        max_length=60, required=False, help_text="Shown when there is no logo, and as its text alternative."
    )
    welcome_text = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A short welcome on your home page (500 characters at most).",
    )
    logo = forms.FileField(required=False, help_text="PNG, JPEG, GIF or WebP, up to 1 MB.")
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")
    favicon = forms.FileField(required=False, help_text="A square PNG, JPEG, GIF or WebP, up to 1 MB.")
    remove_favicon = forms.BooleanField(required=False, label="Remove the favicon")

    def changes(self) -> dict[str, Any]:
        fields = ("primary_colour", "secondary_colour", "accent_colour", "background_colour", "font_family")
        return {name: self.cleaned_data[name] for name in (*fields, "logo_text", "welcome_text")}
