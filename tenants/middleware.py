from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound, JsonResponse
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Domain, Tenant
from tenants.selectors import routed_tenant


class KindredTenantMiddleware(TenantMainMiddleware):
    """Routes by Host header to a tenant schema; unknown hosts get a 404, never the public site.

    The host → tenant lookup comes from the routing cache (no query once cached), and the schema is
    selected once: the database backend (config/postgresql_backend) skips the ``SET search_path``
    when the connection already has the tenant's path.
    """

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        tenant_connection: Any = connection
        tenant_connection.set_schema_to_public()
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return HttpResponseNotFound()
        tenant = routed_tenant(hostname=hostname)
        if tenant is None:
            # The template schema exists only to be cloned; it never serves requests (404 too).
            response: HttpResponse | None = self.no_tenant_found(request, hostname)
            return response
        tenant.domain_url = hostname
        request.tenant = tenant  # type: ignore[attr-defined]
        tenant_connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Tenant:
        tenant = routed_tenant(hostname=hostname)
        if tenant is None:
            raise domain_model.DoesNotExist
        return tenant

    @staticmethod
    def hostname_from_request(request: HttpRequest) -> str:
        return request.get_host().split(":")[0].lower()


# What a member may still do in a read-only tenant: sign in and out, decide about consent and privacy,
# leave a community, mark notifications read. Everything else that writes is refused.
READ_ONLY_ALLOWED_PREFIXES = (
    "/auth/",
    "/accounts/consent/",
    "/consent/",
    "/api/v1/consent/",
    "/api/v1/privacy/",
    "/api/v1/membership/",
    "/notifications/read/",
    "/api/v1/notifications/read/",
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class ReadOnlyTenantMiddleware:
    """A tenant whose agreement ended stays readable; writes get a clear 403 and change nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if (
            tenant is not None
            and tenant.read_only
            and request.method not in SAFE_METHODS
            and not request.path.startswith(READ_ONLY_ALLOWED_PREFIXES)
            and not request.path.endswith("/leave/")
        ):
            message = f"{tenant.name} is read-only: its partnership ended. You can still read and export your data."
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "tenant_read_only", "message": message, "details": {}}, status=403)
            return HttpResponseForbidden(message)
        return self.get_response(request)
