from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.cache import cache

from themes.models import Theme
from themes.selectors import theme_cache_key

if TYPE_CHECKING:
    from tenants.models import Tenant


def ensure_theme(*, tenant: Tenant, **colours: Any) -> Theme:
    """Give a tenant its theme (idempotent); provisioning calls this with the partner's colours."""
    defaults = {"logo_text": tenant.name, **colours}
    theme, created = Theme.objects.get_or_create(tenant=tenant, defaults=defaults)
    if not created and colours:
        for field, value in colours.items():
            setattr(theme, field, value)
        theme.full_clean()
        theme.save()
    cache.delete(theme_cache_key(tenant.pk))
    return theme
