"""Reads for tenants: host lookup, the partner directory, URLs across hosts."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from tenants.models import Domain, Tenant, TenantKind
from tenants.routing import NO_TENANT, cached_route, remember_route


def tenant_for_host(*, host: str) -> Tenant | None:
    domain = Domain.objects.select_related("tenant").filter(domain=host.split(":")[0].lower()).first()
    if domain is None or domain.tenant.kind == TenantKind.TEMPLATE:
        return None
    return domain.tenant


def routed_tenant(*, hostname: str) -> Tenant | None:
    """The tenant a request for ``hostname`` is served by (None: unknown host or the template).

    Read from the routing cache (tenants/routing.py); a miss reads the Domain row once.
    """
    key, cached = cached_route(hostname)
    if cached == NO_TENANT:
        return None
    if isinstance(cached, Tenant):
        return cached
    tenant = tenant_for_host(host=hostname)
    remember_route(key, tenant if tenant is not None else NO_TENANT)
    return tenant


# A host as the platform writes it: ASCII letters, digits, hyphens and dots, optionally one port.
# Anything else (userinfo "@", "%", "\\", "/", whitespace, Unicode) is refused before any lookup.
_HOST_RE = re.compile(r"(?P<name>[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)(?::(?P<port>[0-9]{1,5}))?")


def served_partner_domain(*, host: str, platform_ports: frozenset[str] = frozenset()) -> Domain | None:
    """The partner Domain row that ``host`` names exactly, or None.

    The check runs on the raw text before anything lowercases or normalizes it: ``str.lower()``
    maps some Unicode letters to ASCII ones (KELVIN SIGN to ``k``), and IDNA folding would let a
    lookalike name stand for a served one. A port is accepted only if it is one the platform
    itself answers on, so the redirect built from the row can never name another service.
    """
    if not host or not host.isascii():
        return None
    match = _HOST_RE.fullmatch(host.lower())
    if match is None or ".." in match["name"]:
        return None
    if match["port"] is not None and match["port"] not in platform_ports:
        return None
    domain = Domain.objects.select_related("tenant").filter(domain=match["name"]).first()
    if domain is None or domain.tenant.kind != TenantKind.PARTNER:
        return None
    return domain


def platform_ports(request: HttpRequest | None = None) -> frozenset[str]:
    """Ports the platform serves on: the configured one and the one this request arrived on."""
    ports = {settings.SITE_PORT} if settings.SITE_PORT else set()
    if request is not None:
        ports.add(str(request.get_port()))
    return frozenset(ports)


def partner_tenants() -> QuerySet[Tenant]:
    """Partners listed publicly (a partner admin publishes a new tenant when it is ready)."""
    return Tenant.objects.partners().filter(listed=True).prefetch_related("domains").order_by("name")


def _port_suffix(request: HttpRequest | None) -> str:
    if request is None:
        return f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    port = request.get_port()
    default = "443" if request.is_secure() else "80"
    return "" if port in ("", default) else f":{port}"


def _scheme(request: HttpRequest | None) -> str:
    return request.scheme if request is not None and request.scheme else settings.SITE_SCHEME


def root_url(*, request: HttpRequest | None = None, path: str = "/") -> str:
    """The platform's root-domain URL, on the same scheme and port as the current request."""
    return f"{_scheme(request)}://{settings.ROOT_DOMAIN}{_port_suffix(request)}{path}"


def host_url(*, host: str, request: HttpRequest | None = None, path: str = "/") -> str:
    return f"{_scheme(request)}://{host}{_port_suffix(request)}{path}"


def tenant_url(*, tenant: Tenant, request: HttpRequest | None = None, path: str = "/") -> str:
    return host_url(host=tenant.primary_domain, request=request, path=path)


def current_tenant() -> Tenant | None:
    """The tenant whose schema the connection is set to (django-tenants keeps it on the connection)."""
    return getattr(connection, "tenant", None)


def root_path(name: str, *, kwargs: dict[str, Any] | None = None) -> str:
    """A root-domain path by route name. Mail is composed outside any request (Celery), where
    ``reverse`` would read the tenant URLs, so the root's URLs are named here."""
    return reverse(name, urlconf=settings.PUBLIC_SCHEMA_URLCONF, kwargs=kwargs)


def tenant_path(name: str, *, kwargs: dict[str, Any] | None = None) -> str:
    """A partner-host path by route name, for links built on the root domain (its own URLs differ)."""
    return reverse(name, urlconf=settings.ROOT_URLCONF, kwargs=kwargs)


def root_link(name: str, *, kwargs: dict[str, Any] | None = None, query: str = "") -> str:
    """An absolute root-domain URL by route name (see ``root_path``)."""
    return root_url(path=f"{root_path(name, kwargs=kwargs)}{query}")


def cross_schema_foreign_keys(*, schema: str) -> list[tuple[str, str, str]]:
    """Foreign-key constraints of ``schema``'s tables whose referenced table lives in another schema,
    as (table, constraint, referenced "schema.table"). Tenant schemas keep none (cms migration 0004):
    each would add referential triggers to a public table that every tenant shares."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cl.relname, con.conname, refns.nspname || '.' || ref.relname FROM pg_constraint con "
            "JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = cl.relnamespace "
            "JOIN pg_class ref ON ref.oid = con.confrelid JOIN pg_namespace refns ON refns.oid = ref.relnamespace "
            "WHERE con.contype = 'f' AND ns.nspname = %s AND ref.relnamespace <> cl.relnamespace ORDER BY 1, 2",
            [schema],
        )
        return [(table, name, referenced) for table, name, referenced in cursor.fetchall()]


def foreign_key_triggers_on(*, table: str, schema: str = "public") -> list[tuple[str, str]]:
    """The referential triggers on ``schema.table``, as (referencing schema, referencing table): one
    pair per foreign key pointing at it (PostgreSQL adds a delete and an update trigger for each)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT refns.nspname, ref.relname FROM pg_trigger t JOIN pg_class cl ON cl.oid = t.tgrelid "
            "JOIN pg_namespace ns ON ns.oid = cl.relnamespace "
            "JOIN pg_constraint con ON con.oid = t.tgconstraint AND con.contype = 'f' AND con.confrelid = t.tgrelid "
            "JOIN pg_class ref ON ref.oid = con.conrelid JOIN pg_namespace refns ON refns.oid = ref.relnamespace "
            "WHERE ns.nspname = %s AND cl.relname = %s ORDER BY 1, 2",
            [schema, table],
        )
        return [(ref_schema, ref_table) for ref_schema, ref_table in cursor.fetchall()]
