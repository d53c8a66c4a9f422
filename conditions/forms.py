"""The condition picker field: a multi-select (the accessible fallback without JavaScript) that
conditions/static/conditions/picker.js turns into a type-ahead with everyday names."""

from __future__ import annotations

from typing import Any

from django import forms

from conditions.selectors import condition_picker_choices


class ConditionPickerWidget(forms.SelectMultiple):
    """Each option carries the words it matches (``data-terms``); the select says it wants the picker."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"data-condition-picker": "", "size": 8, **(attrs or {})})
        self.terms: dict[str, str] = {}

    def create_option(
        self,
        name: str,
        value: Any,
        label: int | str,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        terms = self.terms.get(str(value))
        if terms:
            option["attrs"]["data-terms"] = terms
        return option


def use_condition_picker(field: forms.Field) -> None:
    """Give a TypedMultipleChoiceField of condition ids the picker: lay names, sorted, searchable."""
    assert isinstance(field, forms.TypedMultipleChoiceField)
    choices = condition_picker_choices()
    widget = ConditionPickerWidget()
    widget.terms = {str(choice.pk): choice.terms for choice in choices}
    field.widget = widget
    field.choices = [(choice.pk, choice.label) for choice in choices]
    field.help_text = field.help_text or "Type a few letters, e.g. “MS”, “breast cancer” or “type 1 diabetes”."
