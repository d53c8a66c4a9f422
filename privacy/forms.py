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


class StaffErasureForm(forms.Form):
    reason = forms.CharField(
        label="Why is this account erased? (e.g. “erasure request received by email, ticket 1234”)",
        max_length=300,
        min_length=5,
        widget=forms.Textarea,
    )
    keep_posts = DeleteAccountForm.base_fields["keep_posts"]
    confirm = forms.CharField(label="Type ERASE to confirm", max_length=10)

    def clean_confirm(self) -> str:
        value = str(self.cleaned_data["confirm"]).strip()
        if value != "ERASE":
            raise forms.ValidationError("Type ERASE (capitals) to confirm.")
        return value
