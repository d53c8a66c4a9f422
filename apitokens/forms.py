from __future__ import annotations

from django import forms

from apitokens.models import Scope

EXPIRY_CHOICES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]


class TokenForm(forms.Form):
    name = forms.CharField(label="Name (what it is for)", max_length=80)
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.READ],
        help_text="Read: see what you can see. Write: post, reply, react. Moderate and Administer only "
        "work if your role here allows them.",
    )
    expires_in_days = forms.TypedChoiceField(label="Expires after", choices=EXPIRY_CHOICES, coerce=int, initial=90)
