"""Forms of the tenant's management pages (/manage/). They only shape input: the services validate
and decide, and their refusals are shown on the field they concern."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from communities.models import Community, JoiningPolicy, Tag, TagKind, Visibility
from conditions.models import Condition
from config.errors import DomainError

# Which form field a service's refusal is about, by its code (the services' community checks carry
# no field names in ``details``).
FIELD_FOR_CODE = {
    "name_length": "name",
    "slug_invalid": "slug",
    "slug_taken": "slug",
    "visibility_invalid": "visibility",
    "joining_policy_invalid": "joining_policy",
    "condition_unknown": "conditions",
    "tag_invalid": "name",
    "tag_kind_invalid": "kind",
}


def show_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put a service's message on the field it concerns, otherwise above the form."""
    field = FIELD_FOR_CODE.get(error.code)
    if field is None:
        named = [name for name in error.details if name in form.fields]
        field = named[0] if len(named) == 1 else None
    form.add_error(field if field in form.fields else None, error.message)


class CommunityForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    # A plain text field: the service decides what a valid address is and says so.
    slug = forms.CharField(
        label="Address", max_length=120, help_text="Lower-case letters, digits and hyphens: /c/<address>/"
    )
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    rules = forms.CharField(label="Community rules", required=False, widget=forms.Textarea(attrs={"rows": 6}))
    conditions = forms.ModelMultipleChoiceField(
        label="Conditions",
        queryset=Condition.objects.none(),
        required=False,
        help_text="Hold Ctrl (⌘ on a Mac) to choose several.",
    )
    visibility = forms.ChoiceField(label="Who can read it", choices=Visibility.choices, initial=Visibility.MEMBERS_ONLY)
    joining_policy = forms.ChoiceField(label="Joining", choices=JoiningPolicy.choices, initial=JoiningPolicy.OPEN)
    listed_in_directory = forms.BooleanField(
        label="List in the platform's community directory",
        required=False,
        initial=True,
        help_text="Shows the name, description and conditions on the directory of every partner's communities.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["conditions"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Condition.objects.order_by("name")

    @classmethod
    def initial_for(cls, community: Community) -> dict[str, Any]:
        return {
            "name": community.name,
            "slug": community.slug,
            "description": community.description,
            "rules": community.rules,
            "conditions": list(community.conditions.values_list("pk", flat=True)),
            "visibility": community.visibility,
            "joining_policy": community.joining_policy,
            "listed_in_directory": community.listed_in_directory,
        }

    def service_fields(self) -> dict[str, Any]:
        """The cleaned data as the keyword arguments of create_community / update_community."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "slug": data["slug"],
            "description": data["description"],
            "rules": data["rules"],
            "condition_ids": [condition.pk for condition in data["conditions"]],
            "visibility": data["visibility"],
            "joining_policy": data["joining_policy"],
            "listed_in_directory": data["listed_in_directory"],
        }


class JoinDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("deny", "Deny")])
    # Kept in the moderation log, which the person asking can read.
    reason = forms.CharField(max_length=500, required=False)


class TagForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=TagKind.choices)
    name = forms.CharField(label="Name", max_length=60)


class MergeTagForm(forms.Form):
    target = forms.TypedChoiceField(label="Merge into", coerce=int)

    def __init__(self, *args: Any, targets: Iterable[Tag] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["target"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(tag.pk, f"{tag.get_kind_display()}: {tag.name}") for tag in targets]


class SynonymForm(forms.Form):
    terms = forms.CharField(
        label="Words that mean the same",
        max_length=900,
        help_text="Separate them with commas, e.g. “MTX, methotrexate”. Condition names and their "
        "synonyms from the medical taxonomy are already included.",
    )
