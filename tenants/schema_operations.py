"""A migration operation for tenant apps: drop the schema's foreign keys into other schemas.

Tenant schemas keep no foreign-key constraint into public (each added referential triggers to the
one public table every tenant shares: ``members_member`` above all). Our own models declare
``db_constraint=False``; third-party ones (Wagtail's) cannot, so a tenant-app migration placed after
theirs runs this operation (cms 0005). It is idempotent: run again, or after a library migration
re-creates such a key (add a migration with it then), it drops whatever is there and nothing else.
Reversing is a no-op.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

DROP_CROSS_SCHEMA_FOREIGN_KEYS = """
DO $$
DECLARE
    here oid := (SELECT oid FROM pg_namespace WHERE nspname = current_schema());
    fk record;
BEGIN
    IF current_schema() = 'public' THEN
        RETURN;
    END IF;
    FOR fk IN
        SELECT cl.relname AS table_name, con.conname AS constraint_name
        FROM pg_constraint con
        JOIN pg_class cl ON cl.oid = con.conrelid
        JOIN pg_class ref ON ref.oid = con.confrelid
        WHERE con.contype = 'f' AND cl.relnamespace = here AND ref.relnamespace <> here
        ORDER BY 1, 2
    LOOP
        EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', current_schema(), fk.table_name, fk.constraint_name);
    END LOOP;
END
$$;
"""


class DropCrossSchemaForeignKeys(migrations.RunSQL):
    """Drop every foreign key of the current (tenant) schema whose referenced table is in another schema."""

    def __init__(self) -> None:
        super().__init__(DROP_CROSS_SCHEMA_FOREIGN_KEYS, reverse_sql=migrations.RunSQL.noop)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [], {})

    def describe(self) -> str:
        return "Drop the schema's foreign keys into other schemas"
