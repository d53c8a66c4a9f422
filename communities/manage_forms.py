"""Forms of the tenant's management pages (/manage/). They only shape input: the services validate
and decide, and their refusals are shown on the field they concern."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from communities.models import Community, JoiningPolicy, RestrictionKind, Tag, TagKind, Visibility, WatchedWordAction
from communities.moderation import Decision
from conditions.models import Condition
from core.errors import DomainError

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
    "reason_required": "reason",
    "link_invalid": "link",
    "body_empty": "body",
    "body_too_long": "body",
    "community_required": "community",
    "community_same": "community",
    "pattern_invalid": "pattern",
    "action_invalid": "action",
    "replacement_required": "replacement",
    "watched_word_exists": "pattern",
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
    premoderated_posts = forms.IntegerField(
        label="First posts held for review",
        required=False,
        min_value=0,
        max_value=50,
        initial=2,
        help_text="How many of a new member's first posts wait for a moderator before others see them (0: none).",
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
            "premoderated_posts": community.premoderated_posts,
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
            # Left empty: the current count (or, for a new community, the default).
            **({"premoderated_posts": data["premoderated_posts"]} if data["premoderated_posts"] is not None else {}),
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


class ReviewDecisionForm(forms.Form):
    """One form for every decision on a review item; the service says which fields each one needs."""

    decision = forms.ChoiceField(choices=[(key, label) for key, label in Decision.LABELS.items()])
    reason = forms.CharField(
        label="Reason or note (the author sees it; the log keeps it)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    body = forms.CharField(label="New text (for “Edit”)", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    link = forms.CharField(label="Trusted resource (for “Misinformation”)", max_length=500, required=False)
    community = forms.ChoiceField(label="Move to (for “Move”)", required=False)

    def __init__(self, *args: Any, communities: Iterable[Community] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", "—")] + [(c.slug, c.name) for c in communities]  # type: ignore[attr-defined]


class ModerationSettingsForm(forms.Form):
    flag_threshold = forms.IntegerField(
        label="Flag weight that hides a post until a moderator decides", min_value=1, max_value=50
    )


class WatchedWordForm(forms.Form):
    pattern = forms.CharField(label="Word, phrase or pattern", max_length=300)
    is_regex = forms.BooleanField(label="Regular expression (RE2 syntax)", required=False)
    action = forms.ChoiceField(label="Action", choices=WatchedWordAction.choices)
    replacement = forms.CharField(label="Replace with (for “Replace”)", max_length=200, required=False)
    message = forms.CharField(label="Message to the author (for “Block”)", max_length=300, required=False)
    sample = forms.CharField(
        label="Sample text to test against",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LinkRulesForm(forms.Form):
    new_members_may_link = forms.BooleanField(label="New members may post links", required=False)
    new_member_posts = forms.IntegerField(
        label="A member is new until this many of their posts are published", min_value=0, max_value=100
    )
    allowed_domains = forms.CharField(
        label="Allowed link domains (one per line; empty: any)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    denied_domains = forms.CharField(
        label="Denied link domains (one per line)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CrisisSettingsForm(forms.Form):
    resources = forms.CharField(
        label="Crisis resources shown to the author (one per line)", widget=forms.Textarea(attrs={"rows": 5})
    )
    terms = forms.CharField(
        label="Crisis language, one per line as “risk: phrase” (risk is low, medium or high)",
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    on_call = forms.MultipleChoiceField(
        label="On call (emailed at once about urgent posts; nobody ticked: every moderator)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, moderators: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        """``moderators``: (their id here, name) pairs; a member's platform-wide ids never reach the page."""
        super().__init__(*args, **kwargs)
        self.fields["on_call"].choices = list(moderators)  # type: ignore[attr-defined]

    def clean_terms(self) -> list[tuple[str, str]]:
        pairs = []
        for number, line in enumerate(self.cleaned_data["terms"].splitlines(), start=1):
            if not line.strip():
                continue
            risk, separator, phrase = line.partition(":")
            if not separator or risk.strip().lower() not in ("low", "medium", "high") or not phrase.strip():
                raise forms.ValidationError(f"Line {number}: write it as “high: phrase”.")
            pairs.append((phrase.strip(), risk.strip().lower()))
        return pairs


class SynonymForm(forms.Form):
    terms = forms.CharField(
        label="Words that mean the same",
        max_length=900,
        help_text="Separate them with commas, e.g. “MTX, methotrexate”. Condition names and their "
        "synonyms from the medical taxonomy are already included.",
    )


class RestrictForm(forms.Form):
    kind = forms.ChoiceField(choices=RestrictionKind.choices)
    days = forms.IntegerField(
        min_value=1, max_value=3650, required=False, help_text="Leave empty to suspend until you lift it."
    )
    reason = forms.CharField(max_length=500, help_text="The member reads this.")


class TrustForm(forms.Form):
    level = forms.ChoiceField(choices=[(name, name.title()) for name in ("new", "member", "trusted", "leader")])
    locked = forms.BooleanField(
        required=False, initial=True, help_text="Keep this level (untick to let the rules decide again)."
    )
    reason = forms.CharField(max_length=500, required=False)


class ModeratorAddForm(forms.Form):
    member_id = forms.CharField(max_length=64, label="Member's id on this site", help_text="From their profile link.")
    reason = forms.CharField(max_length=300, required=False)


class SlowModeForm(forms.Form):
    minutes = forms.IntegerField(min_value=0, max_value=24 * 60, help_text="One post per member per N minutes; 0: off.")
    reason = forms.CharField(max_length=500, required=False)


TRUST_LEVELS = ("member", "trusted", "leader")
TRUST_KEYS = (("days", "days here"), ("posts_read", "posts read"), ("posts", "posts"), ("helpful", "helpful reactions"))
TRUST_NUMBERS = (
    ("new_max_links", "New members: links per post", 0, 50),
    ("new_max_images", "New members: images per post", 0, 50),
    ("new_max_mentions", "New members: @mentions per post", 0, 50),
    ("new_topics_per_day", "New members: topics a day", 0, 100),
    ("trusted_flag_weight", "What a trusted member's report weighs", 1, 50),
    ("demote_after_upheld_flags", "Upheld reports that cost one level (0: never)", 0, 100),
)


class TrustSettingsForm(forms.Form):
    """The trust ladder's thresholds (one field per level and number) and the privileges' numbers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for level in TRUST_LEVELS:
            for key, label in TRUST_KEYS:
                self.fields[f"{level}__{key}"] = forms.IntegerField(
                    label=f"{level.title()}: {label}", min_value=0, max_value=100_000
                )
        for name, label, low, high in TRUST_NUMBERS:
            self.fields[name] = forms.IntegerField(label=label, min_value=low, max_value=high)

    def requirements(self) -> dict[str, dict[str, int]]:
        return {level: {key: self.cleaned_data[f"{level}__{key}"] for key, _ in TRUST_KEYS} for level in TRUST_LEVELS}

    def numbers(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name, *_ in TRUST_NUMBERS}

    @classmethod
    def initial_from(cls, *, requirements: dict[str, dict[str, int]], row: Any) -> dict[str, int]:
        initial = {f"{level}__{key}": requirements[level][key] for level in TRUST_LEVELS for key, _ in TRUST_KEYS}
        initial.update({name: getattr(row, name) for name, *_ in TRUST_NUMBERS})
        return initial
