from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.selectors import partner_tenants, tenant_url


def platform_home(request: HttpRequest) -> HttpResponse:
    partners = [
        {"tenant": tenant, "url": tenant_url(tenant=tenant, request=request)}
        for tenant in partner_tenants().select_related("theme")
    ]
    return render(request, "tenants/platform_home.html", {"partners": partners})
