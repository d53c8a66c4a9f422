"""migrate_schemas that scales to thousands of tenants and survives one tenant's failure.

django-tenants runs Django's whole ``migrate`` command once per schema even when nothing is
pending (users report 12 minutes for 900 tenants). This executor reads every schema's
``django_migrations`` rows in a few batched queries, skips the schemas that already have every
migration on disk, and migrates the rest one by one; a schema whose migration fails is reported
by name while the others carry on (each Django migration runs in its own transaction, so a
failure never leaves a half-applied migration behind).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from typing import Any

from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors.base import MigrationExecutor, run_migrations
from django_tenants.utils import get_public_schema_name

logger = logging.getLogger(__name__)

BATCH = 200


def migrations_on_disk() -> set[tuple[str, str]]:
    """Every (app, migration) a fully migrated schema has recorded."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    expected: set[tuple[str, str]] = set()
    for key, migration in loader.graph.nodes.items():
        # A squashed migration counts as applied when the ones it replaces are.
        expected.add(key) if not migration.replaces else expected.update(migration.replaces)
    return expected


def applied_migrations_by_schema(schemas: list[str]) -> dict[str, set[tuple[str, str]]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = 'django_migrations' AND table_schema = ANY(%s)",
            [schemas],
        )
        with_table = [row[0] for row in cursor.fetchall()]
        applied: dict[str, set[tuple[str, str]]] = {schema: set() for schema in schemas}
        for start in range(0, len(with_table), BATCH):
            chunk = with_table[start : start + BATCH]
            sql = " UNION ALL ".join(
                f"SELECT %s, app, name FROM {connection.ops.quote_name(schema)}.django_migrations" for schema in chunk
            )
            cursor.execute(sql, chunk)
            for schema, app, name in cursor.fetchall():
                applied[schema].add((app, name))
    return applied


def schemas_needing_migration(schemas: Iterable[str]) -> list[str]:
    schemas = list(schemas)
    if not schemas:
        return []
    expected = migrations_on_disk()
    applied = applied_migrations_by_schema(schemas)
    return [schema for schema in schemas if not expected <= applied[schema]]


class ResilientExecutor(MigrationExecutor):
    codename = "kindred"

    def _targets_specific_state(self) -> bool:
        opts = self.options
        return bool(
            opts.get("app_label")
            or opts.get("migration_name")
            or opts.get("fake")
            or opts.get("fake_initial")
            or opts.get("plan")
            or opts.get("prune")
            or opts.get("check_unapplied")
        )

    def run_migrations(self, tenants: Iterable[str] | None = None) -> None:
        schemas = list(tenants or [])
        public = get_public_schema_name()
        if public in schemas:
            run_migrations(self.args, self.options, self.codename, public)
            schemas.remove(public)
        if not schemas:
            return
        started = time.monotonic()
        pending = schemas if self._targets_specific_state() else schemas_needing_migration(schemas)
        skipped = len(schemas) - len(pending)
        verbosity = int(self.options.get("verbosity", 1))
        if verbosity >= 1 and skipped:
            sys.stdout.write(f"{skipped} of {len(schemas)} tenant schemas are up to date; skipped.\n")
        failures: dict[str, str] = {}
        for idx, schema in enumerate(pending):
            try:
                run_migrations(self.args, self.options, self.codename, schema, idx=idx, count=len(pending))
            except Exception as exc:  # one tenant's failure must not stop the others
                failures[schema] = f"{type(exc).__name__}: {exc}"
                logger.exception("migrations failed in schema %s", schema)
                connection.close()
                connection.set_schema_to_public()
        if verbosity >= 1:
            took = time.monotonic() - started
            sys.stdout.write(
                f"Tenant schemas: {len(pending) - len(failures)} migrated, {skipped} already current, "
                f"{len(failures)} failed ({took:.1f} s).\n"
            )
        if failures:
            detail = "; ".join(f"{schema}: {error}" for schema, error in failures.items())
            raise CommandError(f"Migrations failed in {len(failures)} tenant schema(s): {detail}")

    def run_multi_type_migrations(self, tenants: Any) -> None:
        raise CommandError("Kindred uses a single tenant type.")


def get_executor(codename: str | None = None) -> type[ResilientExecutor]:
    return ResilientExecutor
