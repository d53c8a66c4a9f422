"""django-tenants' PostgreSQL backend that sends ``SET search_path`` only when the path changes.

django-tenants forgets the connection's search path whenever a schema is selected, so a request
paid one ``SET`` for the public schema (the domain lookup) and another for its tenant, and a
persistent connection paid again for the tenant it already had. This backend remembers the path
last applied on the live connection and keeps it across ``set_tenant()`` calls that select the
same path. It forgets it whenever PostgreSQL could have dropped it: on close, on rollback (a ``SET``
inside a rolled-back transaction is undone) and on a rollback to a savepoint.
"""

from __future__ import annotations

from typing import Any

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper


class DatabaseWrapper(TenantDatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.applied_search_path: list[str] | None = None
        super().__init__(*args, **kwargs)

    def set_tenant(self, tenant: Any, include_public: bool = True) -> None:
        super().set_tenant(tenant, include_public)
        if (
            self.applied_search_path is not None
            and self.connection is not None
            and self.applied_search_path == self._get_cursor_search_paths()
        ):
            self.search_path_set_schemas = list(self.applied_search_path)

    def _handle_search_path(self, cursor: Any = None) -> None:
        super()._handle_search_path(cursor)
        if not self._setting_search_path:
            self.applied_search_path = (
                list(self.search_path_set_schemas) if self.search_path_set_schemas is not None else None
            )

    def close(self) -> None:
        self.applied_search_path = None
        super().close()

    def rollback(self) -> None:
        self.applied_search_path = None
        super().rollback()

    def savepoint_rollback(self, sid: Any) -> None:
        self.applied_search_path = None
        super().savepoint_rollback(sid)
