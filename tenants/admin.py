from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from tenants.models import Domain, Tenant, TenantKind
from tenants.services import provision_tenant, validate_new_tenant


class ProvisionTenantForm(forms.ModelForm[Tenant]):
    domain = forms.CharField(max_length=253, help_text="e.g. lupus-alliance.example.org")

    class Meta:
        model = Tenant
        fields = ["name", "slug", "tagline"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            validate_new_tenant(name=data.get("name", ""), slug=data.get("slug", ""), domain=data.get("domain", ""))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return data

    def validate_unique(self) -> None:
        # provision_tenant re-validates under a lock; the model's own check would only repeat it.
        pass


class DomainInline(admin.TabularInline[Domain, Tenant]):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin[Tenant]):
    list_display = ["name", "slug", "kind", "schema_name", "primary_domain", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "domains__domain"]
    readonly_fields = ["schema_name", "kind", "created_at"]
    inlines = [DomainInline]

    def get_form(self, request: HttpRequest, obj: Tenant | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ProvisionTenantForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Tenant | None = None) -> Any:
        return ["slug", *self.readonly_fields] if obj else []

    def get_fields(self, request: HttpRequest, obj: Tenant | None = None) -> Any:
        return ["name", "slug", "domain", "tagline"] if obj is None else super().get_fields(request, obj)

    def get_inline_instances(self, request: HttpRequest, obj: Tenant | None = None) -> Any:
        return super().get_inline_instances(request, obj) if obj else []

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        report = provision_tenant(
            name=form.cleaned_data["name"],
            slug=form.cleaned_data["slug"],
            domain=form.cleaned_data["domain"],
            tagline=form.cleaned_data.get("tagline", ""),
        )
        obj.pk = report.tenant.pk
        obj.schema_name = report.tenant.schema_name
        obj._state.adding = False
        seconds = sum(step.seconds for step in report.steps)
        messages.success(request, f"Provisioned {report.tenant.name} in {seconds:.1f} s.")

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        # Deleting a tenant drops a schema full of patients' posts: an operations task, not a click.
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).exclude(kind=TenantKind.TEMPLATE)
