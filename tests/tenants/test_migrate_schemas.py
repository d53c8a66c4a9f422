"""migrate_schemas with Kindred's executor, on real schemas inside the test's transaction.

Up-to-date schemas are skipped without running Django's migrate command; a schema that misses a
migration gets it; a schema whose migration fails is named in the error while the others are
migrated, and is itself left exactly as it was.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connection, migrations
from django.db.migrations.executor import MigrationExecutor

from tenants.migration_executor import applied_migrations_by_schema, schemas_needing_migration
from tenants.models import Tenant
from tenants.services import TEMPLATE_SCHEMA, provision_tenant

pytestmark = pytest.mark.django_db

Key = tuple[str, str]
# django-tenants' connection wrapper: set_schema() & co. are not in Django's type stubs.
tenant_connection: Any = connection


class PlainMigrateCommand(DjangoMigrateCommand):
    """A project-specific base migrate command: the executor then runs it schema by schema."""


def tenant_schemas() -> list[str]:
    return list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))


def latest_table_migration() -> tuple[Key, list[Key], str]:
    """The latest ``communities`` migration that creates a table, with what depends on it, and the table.

    Re-applying it over its existing table fails ("already exists"), whatever later migrations
    the app gains.
    """
    loader = MigrationExecutor(connection).loader
    graph = loader.graph
    (leaf,) = graph.leaf_nodes("communities")
    for key in reversed(graph.forwards_plan(leaf)):
        creates = [op for op in graph.nodes[key].operations if isinstance(op, migrations.CreateModel)]
        if key[0] == "communities" and creates:
            model = loader.project_state(key).apps.get_model("communities", creates[-1].name)
            return key, graph.backwards_plan(key), model._meta.db_table
    raise AssertionError("communities has no migration that creates a table")


def unapply(schema: str, key: Key) -> None:
    """Migrate ``schema`` back to just before ``key`` (dropping its tables and its rows)."""
    tenant_connection.set_schema(schema)
    try:
        executor = MigrationExecutor(connection)
        parents = sorted(p.key for p in executor.loader.graph.node_map[key].parents if p.key[0] == key[0])
        executor.migrate([parents[-1] if parents else (key[0], None)])
    finally:
        tenant_connection.set_schema_to_public()


def forget(schema: str, keys: list[Key]) -> None:
    """Delete the django_migrations rows only: the tables stay."""
    with connection.cursor() as cursor:
        for app, name in keys:
            cursor.execute(
                f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
                [app, name],
            )


def table_exists(schema: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".{table}'])
        return bool(cursor.fetchone()[0])


def recorded(schema: str, keys: list[Key]) -> set[Key]:
    return applied_migrations_by_schema([schema])[schema] & set(keys)


def test_up_to_date_schemas_are_skipped_without_running_migrate(tenant_a: Any, tenant_b: Any, capsys: Any) -> None:
    schemas = tenant_schemas()
    assert {TEMPLATE_SCHEMA, tenant_a.schema_name, tenant_b.schema_name} <= set(schemas)
    assert schemas_needing_migration(schemas) == []

    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)

    out = capsys.readouterr().out
    n = len(schemas)
    assert f"{n} of {n} tenant schemas are up to date; skipped." in out
    assert f"Tenant schemas: 0 migrated, {n} already current, 0 failed" in out
    # Django's migrate command was never started for any of them.
    assert "=== Starting migration" not in out
    assert tenant_connection.schema_name == "public"


def test_a_schema_missing_a_migration_gets_it(tenant_a: Any, tenant_b: Any, capsys: Any) -> None:
    latest, with_dependents, table = latest_table_migration()
    unapply(tenant_a.schema_name, latest)
    assert recorded(tenant_a.schema_name, with_dependents) == set()
    assert not table_exists(tenant_a.schema_name, table)
    assert schemas_needing_migration(tenant_schemas()) == [tenant_a.schema_name]

    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)

    out = capsys.readouterr().out
    assert f"kindred:{tenant_a.schema_name}] applied " in out
    assert f"{latest[0]}.{latest[1]}" in out
    assert f"Tenant schemas: 1 migrated, {len(tenant_schemas()) - 1} already current, 0 failed" in out
    assert recorded(tenant_a.schema_name, with_dependents) == set(with_dependents)
    assert table_exists(tenant_a.schema_name, table)
    assert schemas_needing_migration(tenant_schemas()) == []


@pytest.mark.parametrize("path", ["grouped", "django-command"])
def test_a_failing_schema_is_named_and_the_others_are_migrated(path: str, settings: Any, capsys: Any) -> None:
    if path == "django-command":
        settings.TENANT_BASE_MIGRATE_COMMAND = f"{__name__}.PlainMigrateCommand"
    broken = provision_tenant(name="Broken Migrations", slug="broken-migrations", domain="broken.localhost").tenant
    healthy = provision_tenant(name="Healthy Migrations", slug="healthy-migrations", domain="healthy.localhost").tenant
    latest, with_dependents, table = latest_table_migration()
    # Broken: the rows are gone but the tables are there, so re-applying fails ("already exists").
    forget(broken.schema_name, with_dependents)
    # Healthy: properly migrated back, so re-applying succeeds.
    unapply(healthy.schema_name, latest)
    assert not table_exists(healthy.schema_name, table)

    with pytest.raises(CommandError) as excinfo:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)

    out = capsys.readouterr().out
    assert f"1 migrated, {len(tenant_schemas()) - 2} already current, 1 failed" in out
    # Grouped: one plan for both schemas, applied per schema; otherwise Django's command per schema.
    assert ("=== Starting migration" in out) is (path == "django-command")
    message = str(excinfo.value)
    assert "Migrations failed in 1 tenant schema(s)" in message
    assert f"{broken.schema_name}: " in message
    assert "already exists" in message
    assert healthy.schema_name not in message
    # The connection and the test's transaction are still usable.
    assert tenant_connection.schema_name == "public"
    assert Tenant.objects.filter(pk=broken.pk).exists()

    # The healthy schema is fully migrated: rows back, tables back.
    assert schemas_needing_migration([healthy.schema_name]) == []
    assert table_exists(healthy.schema_name, table)
    # The broken one is exactly as it was: tables kept, rows still missing.
    assert table_exists(broken.schema_name, table)
    assert recorded(broken.schema_name, with_dependents) == set()
    assert schemas_needing_migration(tenant_schemas()) == [broken.schema_name]
