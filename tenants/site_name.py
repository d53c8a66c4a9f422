"""The name Wagtail's admin shows for "this site": the current tenant's, read per request.

Settings import this module before the apps load, so it touches no model: django-tenants sets
``connection.tenant`` for each request (and ``tenant_context``), and this reads it when the name is shown.
"""

from __future__ import annotations

from django.db import connection
from django.utils.functional import lazy

PLATFORM_NAME = "Kindred"


def current_site_name() -> str:
    tenant = getattr(connection, "tenant", None)
    name = getattr(tenant, "name", "") if tenant is not None else ""
    schema = getattr(tenant, "schema_name", "public")
    return str(name) if name and schema != "public" else PLATFORM_NAME


# A lazy string: each use (a template, a message) asks for the tenant of that moment.
tenant_site_name = lazy(current_site_name, str)()
