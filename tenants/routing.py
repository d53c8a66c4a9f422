"""The host → tenant routing cache, shared by every process through Django's default cache.

Every request needs its tenant before anything else; reading it from the ``Domain`` table cost a
query and a ``SET search_path`` to public on every request. Entries live under a routing version:
any write to a tenant or a domain (model ``save``/``delete`` and the querysets' ``update``/``delete``,
see tenants/models.py) bumps the version, which drops every entry at once. With ``REDIS_URL`` the
cache is shared by all web and worker processes, so a change is seen everywhere at once; with the
local-memory default (one process, ``make run``) a change made in another process is seen after
``ROUTE_TTL_S`` at most.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

VERSION_KEY = "kindred:tenant-route-version"
ROUTE_TTL_S = 60
# An unknown host is cached too, so a flood of made-up Host headers costs no query each.
NO_TENANT = "-"


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def route_key(hostname: str) -> str:
    return f"kindred:tenant-route:{_version()}:{hostname}"


def cached_route(hostname: str) -> tuple[str, Any]:
    """``(key, value)``: value is a Tenant, ``NO_TENANT``, or None when the cache has no entry."""
    _public_cache_keys()
    key = route_key(hostname)
    return key, cache.get(key)


def remember_route(key: str, value: Any) -> None:
    cache.set(key, value, timeout=ROUTE_TTL_S)


def forget_routes() -> None:
    """Drop every cached route now, and again once the writing transaction commits.

    The second bump covers a request that read the old rows between the write and the commit.
    """
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    _public_cache_keys()
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.add(VERSION_KEY, 2, timeout=None)


def _public_cache_keys() -> None:
    # django_tenants.cache.make_key prefixes keys with the connection's current schema: routing
    # entries must be the same whichever tenant the connection served last.
    tenant_connection: Any = connection
    if tenant_connection.schema_name != "public":
        tenant_connection.set_schema_to_public()
