from __future__ import annotations

from typing import TYPE_CHECKING

from themes.models import Theme

if TYPE_CHECKING:
    from tenants.models import Tenant

PLATFORM_THEME = Theme(logo_text="Kindred")


def theme_for(*, tenant: Tenant | None) -> Theme:
    """The tenant's theme, or the platform's own look on the root domain.

    Not cached: one primary-key read per page. A cached copy in one web process (the local-memory
    cache is per process) would keep showing the old colours after a change made in another, which
    is how a change once took a minute to show. A theme change now shows on the next page load.
    """
    if tenant is None or tenant.schema_name == "public":
        return PLATFORM_THEME
    return Theme.objects.filter(tenant_id=tenant.pk).first() or Theme(tenant_id=tenant.pk, logo_text=tenant.name)


def theme_of_listed_partner(*, slug: str) -> Theme | None:
    """The theme of a partner listed in the directory (the root's partner list shows its logo)."""
    return Theme.objects.filter(tenant__slug=slug, tenant__listed=True).select_related("tenant").first()
