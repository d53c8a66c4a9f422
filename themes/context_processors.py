from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from themes.selectors import theme_for


def tenant_theme(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    return {"theme": theme_for(tenant=tenant), "current_tenant": tenant}
