from __future__ import annotations

from typing import Any

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper

from config.embedded_db import resolve_embedded_settings


class DatabaseWrapper(TenantDatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        resolve_embedded_settings(self.settings_dict)
        return super().get_connection_params()
