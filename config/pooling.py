"""Refuse to run behind a pooler in transaction mode (PgBouncer ``pool_mode = transaction``).

Each tenant's schema is chosen with a session-level ``SET search_path`` that stays on the
connection (config/postgresql_backend). Behind transaction pooling, the next transaction may run
on another server connection, whose search path belongs to another request: one partner's rows
could be read or written in another partner's schema. Session pooling (each client keeps its
server connection) is safe, and is what docs/operations.md prescribes.

The probe: client A runs a statement and goes idle; client B then opens a transaction. With session
pooling A's server connection stays A's, so B can never get it and A keeps it. With transaction
pooling A's server connection went back to the pool when its statement ended: B gets it (PgBouncer
hands out the most recently released one first), or A comes back on another. Either shows.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

logger = logging.getLogger(__name__)

MESSAGE = (
    "The database connections are pooled per transaction (PgBouncer pool_mode = transaction?): a "
    "tenant's schema is a session setting, so requests could run in another tenant's schema. Use "
    "session pooling (pool_mode = session); see docs/operations.md."
)


def server_connections_are_shared(alias: str = "default") -> bool:
    """True when two client connections can land on one server connection between transactions."""
    params: dict[str, Any] = connections[alias].get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as first, psycopg.connect(**params, autocommit=True) as second:
        first_pid = _backend_pid(first)
        with second.transaction():
            second_pid = _backend_pid(second)
            first_again = _backend_pid(first)
    return second_pid == first_pid or first_again != first_pid


def _backend_pid(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def require_session_pooling(alias: str = "default") -> None:
    """Raise ImproperlyConfigured behind transaction pooling (run once at start-up)."""
    if server_connections_are_shared(alias):
        logger.critical(MESSAGE)
        raise ImproperlyConfigured(MESSAGE)


@register("database")
def check_session_pooling(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``manage.py check --database default``: the same probe as a system check."""
    if not databases or "default" not in databases:
        return []
    if server_connections_are_shared("default"):
        return [Error(MESSAGE, id="kindred.E001")]
    return []
