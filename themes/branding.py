"""The name Wagtail's admin calls the site: the current tenant's, not "Kindred" on every partner.

Wagtail falls back to ``settings.WAGTAIL_SITE_NAME`` whenever the admin user's explorable root is
above a Site's root page (a platform superuser, a tenant admin whose rights start at the tree root),
so every partner's dashboard said "Kindred". The setting is a lazy string resolved per request
from the connection's tenant (django-tenants sets it before any view runs).
"""

from __future__ import annotations

from django.db import connection
from django.utils.functional import lazy

PLATFORM_NAME = "Kindred"


def current_site_name() -> str:
    tenant = getattr(connection, "tenant", None)
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return PLATFORM_NAME
    return str(getattr(tenant, "name", "") or PLATFORM_NAME)


tenant_site_name = lazy(current_site_name, str)
