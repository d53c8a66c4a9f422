"""Web forms of the community pages. They only shape input: the services validate and decide."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from communities.models import FlagReason, ReactionKind, Tag, TopicKind, WatchLevel


class TopicForm(forms.Form):
    kind = forms.ChoiceField(choices=TopicKind.choices, widget=forms.HiddenInput)
    title = forms.CharField(label="Title", max_length=200)
    body = forms.CharField(label="Your post (Markdown)", widget=forms.Textarea(attrs={"rows": 10}))
    tag_ids = forms.TypedMultipleChoiceField(
        label="Tags", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    proposed_tags = forms.CharField(
        label="Suggest new tags (comma-separated)",
        required=False,
        max_length=300,
        help_text="Moderators review suggested tags.",
    )

    def __init__(self, *args: Any, tags: Iterable[Tag] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tag_ids"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(tag.pk, f"{tag.get_kind_display()}: {tag.name}") for tag in tags]

    def proposed_tag_names(self) -> list[str]:
        raw = self.cleaned_data.get("proposed_tags") or ""
        return [name.strip() for name in raw.split(",") if name.strip()]


class ReplyForm(forms.Form):
    body = forms.CharField(label="Your reply (Markdown)", widget=forms.Textarea(attrs={"rows": 6}))
    quote = forms.IntegerField(required=False, widget=forms.HiddenInput)


class EditPostForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200, required=False)
    body = forms.CharField(label="Post (Markdown)", widget=forms.Textarea(attrs={"rows": 10}))


class ReactionForm(forms.Form):
    kind = forms.ChoiceField(choices=ReactionKind.choices)
    # "1" adds the reaction, "0" takes it back: the button says which, so no JavaScript is needed.
    on = forms.BooleanField(required=False)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # The topic page's buttons submit one value, "<kind>:on" or "<kind>:off" (a button sends
        # only its own name and value, and one shared form per page keeps the page light).
        if data is not None and data.get("toggle") and not data.get("kind"):
            kind, _, state = str(data["toggle"]).partition(":")
            data = {"kind": kind, "on": "1" if state == "on" else ""}
        super().__init__(data, **kwargs)


class RemovalForm(forms.Form):
    reason = forms.CharField(
        label="Why is this post removed? (optional; its author and the moderation log see it)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label="What is wrong with this post?", choices=FlagReason.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label="Anything the moderators should know? (needed for “Something else”)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class WatchLevelForm(forms.Form):
    level = forms.ChoiceField(label="Notifications", choices=WatchLevel.choices)
