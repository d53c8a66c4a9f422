from __future__ import annotations

from typing import Any

from django import forms
from django_countries import countries

from conditions.forms import use_condition_picker
from members.models import EmailNotifications, MemberRole, Sex
from members.signup import signup_steps


class SignUpForm(forms.Form):
    email = forms.EmailField(label="Email")
    password = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    display_name = forms.CharField(label="Display name", max_length=80, required=False)
    role = forms.ChoiceField(label="I am a", choices=[("", "Prefer not to say"), *MemberRole.choices], required=False)
    condition_ids = forms.TypedMultipleChoiceField(label="Conditions", coerce=int, required=False)
    birth_year = forms.IntegerField(label="Birth year", required=False, min_value=1900, max_value=2100)
    country = forms.ChoiceField(label="Country", choices=[("", "Prefer not to say"), *countries], required=False)
    region = forms.CharField(label="Region / state", max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_condition_picker(self.fields["condition_ids"])
        # Fields that higher apps add (e.g. consent's unticked checkboxes), kept apart from the profile.
        self.step_fields: set[str] = set()
        for step in signup_steps():
            for name, field in step.form_fields().items():
                self.fields[name] = field
                self.step_fields.add(name)

    def profile_data(self) -> dict[str, Any]:
        return {key: value for key, value in self.cleaned_data.items() if key not in self.step_fields}

    def step_data(self) -> dict[str, Any]:
        return {key: value for key, value in self.cleaned_data.items() if key in self.step_fields}


class ProfileForm(forms.Form):
    """What a member says about themselves; every field may stay empty (nothing is required to take part)."""

    display_name = forms.CharField(label="Display name", max_length=80, required=False)
    role = forms.ChoiceField(label="I am a", choices=[("", "Prefer not to say"), *MemberRole.choices], required=False)
    condition_ids = forms.TypedMultipleChoiceField(label="Conditions", coerce=int, required=False)
    birth_year = forms.IntegerField(label="Birth year", required=False, min_value=1900, max_value=2100)
    sex = forms.ChoiceField(
        label="Sex (only to tell which clinical trials may fit you)",
        choices=[("", "Prefer not to say"), *Sex.choices],
        required=False,
    )
    country = forms.ChoiceField(label="Country", choices=[("", "Prefer not to say"), *countries], required=False)
    region = forms.CharField(label="Region / state", max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_condition_picker(self.fields["condition_ids"])


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(label="New email address")
    password = forms.CharField(
        label="Your current password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(label="Email")


class EmailPreferenceForm(forms.Form):
    email_notifications = forms.ChoiceField(
        label="Notification emails", choices=EmailNotifications.choices, widget=forms.RadioSelect
    )


class PrivacySettingsForm(forms.Form):
    """Every box starts unticked: the private choice is the default."""

    show_conditions = forms.BooleanField(label="Show my conditions on my profile", required=False)
    show_location = forms.BooleanField(label="Show my country and region on my profile", required=False)
    show_role = forms.BooleanField(label="Show whether I am a patient or a caregiver", required=False)
    listed_in_member_lists = forms.BooleanField(
        label="List me in the member lists of communities I join", required=False
    )
    email_notifications = forms.ChoiceField(
        label="Notification emails", choices=EmailNotifications.choices, widget=forms.RadioSelect
    )


class TenantNameForm(forms.Form):
    display_name = forms.CharField(
        label="My name in this community site",
        max_length=80,
        required=False,
        help_text="Leave empty to use your Kindred display name. Other partners' sites never see this name.",
    )
