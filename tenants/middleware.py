from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
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
