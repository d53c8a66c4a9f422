from __future__ import annotations

from django.http import HttpRequest
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Domain, Tenant, TenantKind


class KindredTenantMiddleware(TenantMainMiddleware):
    """Routes by Host header to a tenant schema; unknown hosts get a 404, never the public site."""

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Tenant:
        domain = domain_model.objects.select_related("tenant").get(domain=hostname.lower())
        if domain.tenant.kind == TenantKind.TEMPLATE:
            # The template schema exists only to be cloned; it never serves requests.
            raise domain_model.DoesNotExist
        return domain.tenant

    @staticmethod
    def hostname_from_request(request: HttpRequest) -> str:
        return request.get_host().split(":")[0].lower()
