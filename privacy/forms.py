from __future__ import annotations

from django import forms


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label="Your password", widget=forms.PasswordInput, strip=False)
    keep_posts = forms.TypedChoiceField(
        label="Your posts",
        choices=[
            ("0", "Delete the text of my posts (threads stay readable; my posts show “[removed]”)"),
            ("1", "Keep my posts, shown as written by “A former member”"),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )


class StaffReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why do you need to see this member's data?", max_length=300, min_length=5, widget=forms.Textarea
    )
