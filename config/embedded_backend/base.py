"""Kindred's PostgreSQL backend, starting the embedded server on the first connection.

Used only when DATABASE_URL is unset. Starting lazily means commands that never touch the
database (mypy's Django plugin, ruff, collectstatic) neither start nor strand a server.
"""

from __future__ import annotations

from typing import Any

from config.embedded_db import resolve_embedded_settings
from config.postgresql_backend.base import DatabaseWrapper as KindredDatabaseWrapper


class DatabaseWrapper(KindredDatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        resolve_embedded_settings(self.settings_dict)
        return super().get_connection_params()
