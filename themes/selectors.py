from __future__ import annotations

from typing import TYPE_CHECKING

from themes.models import Theme

if TYPE_CHECKING:
    from tenants.models import Tenant

PLATFORM_THEME = Theme(primary_colour="#2f5d8a", accent_colour="#e07a5f", logo_text="Kindred")


def theme_for(*, tenant: Tenant | None) -> Theme:
    """The tenant's theme, or the platform's own look on the root domain."""
    if tenant is None or tenant.schema_name == "public":
        return PLATFORM_THEME
    theme = Theme.objects.filter(tenant_id=tenant.pk).first()
    return theme or Theme(tenant_id=tenant.pk, logo_text=tenant.name)
