"""The connection's schema, as django-tenants' database backend exposes it (untyped there)."""

from __future__ import annotations

from typing import Any, cast

from django.db import connection


def _tenant_connection() -> Any:
    return cast(Any, connection)


def use_public_schema() -> None:
    _tenant_connection().set_schema_to_public()


def current_schema_name() -> str:
    return str(_tenant_connection().schema_name)
