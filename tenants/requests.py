"""Typed access to the tenant the middleware attached to a request."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.request import Request

from tenants.models import Tenant


def request_tenant(request: HttpRequest | Request) -> Tenant:
    """The request's tenant (the public one on the root domain); set by django-tenants' middleware."""
    tenant = getattr(request, "tenant", None)
    if not isinstance(tenant, Tenant):
        raise LookupError("the request has no tenant: is TenantMainMiddleware installed?")
    return tenant


def partner_tenant(request: HttpRequest | Request) -> Tenant | None:
    """The partner whose site the request is on, or None on the platform's root domain."""
    tenant = getattr(request, "tenant", None)
    return tenant if isinstance(tenant, Tenant) and tenant.schema_name != "public" else None
