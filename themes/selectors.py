from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.cache import cache

from themes.models import Theme

if TYPE_CHECKING:
    from tenants.models import Tenant

PLATFORM_THEME = Theme(primary_colour="#2f5d8a", accent_colour="#e07a5f", logo_text="Kindred")


# Every page reads its tenant's theme; it changes a few times a year. Cached briefly: the theme
# service drops the entry at once, a change made elsewhere (the Django admin) shows within a minute.
THEME_CACHE_SECONDS = 60


def theme_cache_key(tenant_id: int) -> str:
    return f"themes:theme:{tenant_id}"


def theme_for(*, tenant: Tenant | None) -> Theme:
    """The tenant's theme, or the platform's own look on the root domain."""
    if tenant is None or tenant.schema_name == "public":
        return PLATFORM_THEME
    key = theme_cache_key(tenant.pk)
    theme = cache.get(key)
    if theme is None:
        theme = Theme.objects.filter(tenant_id=tenant.pk).first() or Theme(tenant_id=tenant.pk, logo_text=tenant.name)
        cache.set(key, theme, THEME_CACHE_SECONDS)
    return theme
