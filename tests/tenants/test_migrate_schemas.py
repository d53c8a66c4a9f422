"""migrate_schemas with Kindred's executor, on real schemas inside the test's transaction.

Up-to-date schemas are skipped without running Django's migrate command; a schema that misses a
migration gets it; a schema whose migration fails is named in the error while the others are
migrated, and is itself left exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connection, migrations
from django.db.migrations.executor import MigrationExecutor

from tenants.migration_executor import applied_migrations_by_schema, schemas_needing_migration
from tenants.models import Tenant
from tenants.schema_operations import DropCrossSchemaForeignKeys
from tenants.services import TEMPLATE_SCHEMA, provision_tenant

pytestmark = pytest.mark.django_db

Key = tuple[str, str]
# django-tenants' connection wrapper: set_schema() & co. are not in Django's type stubs.
tenant_connection: Any = connection
# Our own apps that live in tenant schemas (third-party ones are left alone).
OUR_TENANT_APPS = ("communities", "cms")


class PlainMigrateCommand(DjangoMigrateCommand):
    """A project-specific base migrate command: the executor then runs it schema by schema."""


def tenant_schemas() -> list[str]:
    return list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))


@dataclass(frozen=True)
class LostMigrations:
    """Tenant-app migrations a test makes a schema lose, and the tables they create."""

    first: Key  # re-applying it over its existing table fails with "already exists"
    keys: list[Key]  # ``first`` and every migration that depends on it
    tables: list[str]


def latest_self_contained_migrations() -> LostMigrations:
    """The latest migration of one of our tenant apps that, with what depends on it, only builds its own tables.

    Dropping those tables and forgetting those rows then exactly undoes them, so re-applying
    succeeds; forgetting the rows alone makes re-applying fail. Not Django's backwards migrations:
    on a cloned schema they can fail, as clone_schema() renames unique constraints (the template's
    "one_topic_subscription" is "communities_topicsubscription_topic_id_member_id_key" in a clone).
    Chosen afresh each run, so new migrations in the app don't break these tests.
    """
    loader = MigrationExecutor(connection).loader
    graph = loader.graph
    final = loader.project_state()
    ordered: list[Key] = []
    for app in OUR_TENANT_APPS:
        (leaf,) = graph.leaf_nodes(app)
        ordered += [key for key in graph.forwards_plan(leaf) if key[0] == app and key not in ordered]
    # Latest first across apps: a migration's position in the combined plan orders them.
    for first in sorted(ordered, key=lambda key: len(graph.forwards_plan(key)), reverse=True):
        keys = graph.backwards_plan(first)
        operations = [(app, op) for app, name in reversed(keys) for op in graph.nodes[app, name].operations]
        created = {(app, op.name_lower) for app, op in operations if isinstance(op, migrations.CreateModel)}
        own = all(
            # Dropping the schema's keys into public (cms 0005) is idempotent: re-applying it is harmless.
            isinstance(op, migrations.CreateModel | migrations.RunPython | DropCrossSchemaForeignKeys)
            or (app, getattr(op, "model_name_lower", getattr(op, "name_lower", ""))) in created
            for app, op in operations
        )
        if not own or not isinstance(operations[0][1], migrations.CreateModel):
            continue
        tables: list[str] = []
        for app, model_name in created:
            if (app, model_name) in final.models:
                model = final.apps.get_model(app, model_name)
                tables.append(model._meta.db_table)
                tables += [f.remote_field.through._meta.db_table for f in model._meta.local_many_to_many]
        first_table = final.apps.get_model(first[0], operations[0][1].name)._meta.db_table
        return LostMigrations(first=first, keys=keys, tables=[first_table, *sorted(set(tables) - {first_table})])
    raise AssertionError("no tenant-app migration only builds its own tables: rethink these tests")


def forget(schema: str, lost: LostMigrations) -> None:
    """Delete the django_migrations rows only: the tables stay."""
    with connection.cursor() as cursor:
        for app, name in lost.keys:
            cursor.execute(f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', [app, name])


def unapply(schema: str, lost: LostMigrations) -> None:
    """Forget the rows and drop the tables: as if those migrations had never run."""
    forget(schema, lost)
    with connection.cursor() as cursor:
        # Provisioning wrote rows into these tables in this same transaction (a tenant's home page):
        # their deferred foreign-key checks must fire before a table can be dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in lost.tables:
            cursor.execute(f'DROP TABLE IF EXISTS "{schema}"."{table}" CASCADE')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


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


def test_a_schema_missing_a_migration_gets_it(tenant_a: Any, capsys: Any) -> None:
    lost = latest_self_contained_migrations()
    table = lost.tables[0]
    unapply(tenant_a.schema_name, lost)
    assert recorded(tenant_a.schema_name, lost.keys) == set()
    assert not table_exists(tenant_a.schema_name, table)
    assert schemas_needing_migration(tenant_schemas()) == [tenant_a.schema_name]

    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)

    out = capsys.readouterr().out
    assert f"kindred:{tenant_a.schema_name}] applied " in out
    assert "{}.{}".format(*lost.first) in out
    assert f"Tenant schemas: 1 migrated, {len(tenant_schemas()) - 1} already current, 0 failed" in out
    assert recorded(tenant_a.schema_name, lost.keys) == set(lost.keys)
    assert all(table_exists(tenant_a.schema_name, t) for t in lost.tables)
    assert schemas_needing_migration(tenant_schemas()) == []


@pytest.mark.parametrize("path", ["grouped", "django-command"])
def test_a_failing_schema_is_named_and_the_others_are_migrated(path: str, settings: Any, capsys: Any) -> None:
    if path == "django-command":
        settings.TENANT_BASE_MIGRATE_COMMAND = f"{__name__}.PlainMigrateCommand"
    broken = provision_tenant(name="Broken Migrations", slug="broken-migrations", domain="broken.localhost").tenant
    healthy = provision_tenant(name="Healthy Migrations", slug="healthy-migrations", domain="healthy.localhost").tenant
    lost = latest_self_contained_migrations()
    table = lost.tables[0]
    # Broken: the rows are gone but the tables are there, so re-applying fails ("already exists").
    forget(broken.schema_name, lost)
    # Healthy: rows and tables gone, so re-applying succeeds.
    unapply(healthy.schema_name, lost)
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
    assert all(table_exists(healthy.schema_name, t) for t in lost.tables)
    # The broken one is exactly as it was: tables kept, rows still missing.
    assert table_exists(broken.schema_name, table)
    assert recorded(broken.schema_name, lost.keys) == set()
    assert schemas_needing_migration(tenant_schemas()) == [broken.schema_name]
