"""The Wagtail admin's form of an expert session: its expert's account is chosen among this tenant's
members only (never the platform's whole list of accounts), shown by the name they use here."""

from __future__ import annotations

from typing import Any

from django import forms
from wagtail.admin.forms import WagtailAdminPageForm

from core.errors import InvalidInput
from members.models import Member
from members.selectors import members_of, tenant_display_names
from tenants.selectors import current_tenant


class ExpertSessionPageForm(WagtailAdminPageForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("expert_member")
        if not isinstance(field, forms.ModelChoiceField):
            return
        tenant = current_tenant()
        if tenant is None or tenant.schema_name == "public":
            field.queryset = Member.objects.none()
            return
        members = Member.objects.filter(pk__in=members_of(tenant=tenant).values("member_id"), is_active=True)
        names = tenant_display_names(tenant=tenant, member_ids=members.values_list("pk", flat=True))
        field.queryset = members.order_by("pk")
        field.label_from_instance = lambda obj: names.get(obj.pk, "A member")  # type: ignore[method-assign]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()
        expert = cleaned.get("expert_member")
        tenant = current_tenant()
        if expert is not None and tenant is not None:
            # cycle: cms.models -> cms.forms -> cms.services -> cms.models
            from cms.services import check_session_expert  # noqa: PLC0415

            try:
                check_session_expert(tenant=tenant, community=cleaned.get("community"), expert=expert)
            except InvalidInput as error:
                self.add_error("expert_member", error.message)
        return cleaned
