from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from partnerships.selectors import sponsor_of
from tenants.models import TenantKind
from tenants.selectors import root_path, root_url


def sponsorship(request: HttpRequest) -> dict[str, Any]:
    """The disclosed sponsor (only while the sponsorship is live) and the read-only notice."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.kind != TenantKind.PARTNER:
        return {}
    context: dict[str, Any] = {"sponsor": sponsor_of(tenant=tenant), "tenant_read_only": tenant.read_only}
    if tenant.read_only:
        context["platform_privacy_url"] = root_url(request=request, path=root_path("privacy"))
        context["platform_directory_url"] = root_url(request=request, path="/communities/")
    return context
