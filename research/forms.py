from __future__ import annotations

from typing import Any

from django import forms

from conditions.models import Condition
from research.models import DEFAULT_K, MIN_K, Dataset
from research.selectors import research_agreements
from tenants.models import Tenant


class ExportForm(forms.Form):
    agreement = forms.ModelChoiceField(queryset=research_agreements(), to_field_name="public_id")
    title = forms.CharField(max_length=200, required=False)
    tenants = forms.ModelMultipleChoiceField(queryset=Tenant.objects.partners())
    communities = forms.CharField(required=False, help_text="Community slugs, comma-separated (blank: all).")
    conditions = forms.ModelMultipleChoiceField(queryset=Condition.objects.all(), required=False)
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)
    datasets = forms.MultipleChoiceField(choices=Dataset.choices, widget=forms.CheckboxSelectMultiple)
    k = forms.IntegerField(min_value=MIN_K, max_value=1000, initial=DEFAULT_K)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "agreement": data["agreement"],
            "title": data["title"],
            "tenant_ids": [t.pk for t in data["tenants"]],
            "community_slugs": [s for s in (data["communities"] or "").split(",") if s.strip()],
            "condition_ids": [c.pk for c in data["conditions"]],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "datasets": list(data["datasets"]),
            "k": data["k"],
        }
