"""migrate_schemas that scales to thousands of tenants and survives one tenant's failure.

django-tenants runs Django's whole ``migrate`` command once per schema even when nothing is
pending (users report 12 minutes for 900 tenants), and each run loads the migration graph and
renders the project state of ~220 migrations again. This executor:

- reads every schema's ``django_migrations`` rows in a few batched queries and skips the schemas
  that already have every migration on disk (the no-op case costs a handful of queries in all);
- groups the pending schemas by their set of applied migrations: schemas with the same set
  have the same plan and the same starting state, so the loader, the plan and the rendered
  states are built once per group, and each schema then only runs the plan's operations, in
  ONE transaction per schema (all its pending migrations and their post_migrate work), so a
  schema is either fully migrated or untouched, even when the process is killed;
- falls back to Django's ``migrate`` command per schema when that can't be guaranteed or isn't
  what was asked (non-atomic migrations, a schema without a ``django_migrations`` table yet,
  ``--fake``, an explicit target, ...); the public schema always goes through that command;
- reports a schema whose migration fails by name while the others carry on, and raises
  ``CommandError`` naming every failed schema at the end. It never commits or closes a
  connection inside a caller's transaction, so it also runs inside a test's rolled-back one.
"""

from __future__ import annotations

import copy
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.apps import apps as global_apps
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor as DjangoMigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.operations import RunPython
from django.db.migrations.state import ModelState, ProjectState, StateApps
from django.utils.module_loading import module_has_submodule
from django_tenants.migration_executors.base import MigrationExecutor, run_migrations
from django_tenants.signals import schema_migrated, schema_pre_migration
from django_tenants.utils import get_public_schema_name, get_tenant_database_alias

logger = logging.getLogger(__name__)

BATCH = 200
DJANGO_MIGRATE_COMMAND = "django.core.management.commands.migrate.Command"

Applied = frozenset[tuple[str, str]]


def migrations_on_disk() -> set[tuple[str, str]]:
    """Every (app, migration) a fully migrated schema has recorded."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    expected: set[tuple[str, str]] = set()
    for key, migration in loader.graph.nodes.items():
        # A squashed migration counts as applied when the ones it replaces are.
        expected.add(key) if not migration.replaces else expected.update(migration.replaces)
    return expected


def applied_migrations_by_schema(schemas: list[str], using: str | None = None) -> dict[str, set[tuple[str, str]]]:
    """Each schema's recorded migrations, in one query per BATCH schemas (empty if it has no table)."""
    connection = connections[using or get_tenant_database_alias()]
    applied: dict[str, set[tuple[str, str]]] = {schema: set() for schema in schemas}
    with connection.cursor() as cursor:
        # pg_catalog rather than information_schema: with thousands of schemas the catalog holds
        # hundreds of thousands of relations and the information_schema views are much slower.
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'django_migrations' AND c.relkind IN ('r', 'p') AND n.nspname = ANY(%s)",
            [schemas],
        )
        with_table = sorted(row[0] for row in cursor.fetchall())
        for start in range(0, len(with_table), BATCH):
            chunk = with_table[start : start + BATCH]
            sql = " UNION ALL ".join(
                f"SELECT %s, app, name FROM {connection.ops.quote_name(schema)}.django_migrations"  # noqa: S608
                for schema in chunk
            )
            cursor.execute(sql, chunk)
            for schema, app, name in cursor.fetchall():
                applied[schema].add((app, name))
    return applied


def schemas_needing_migration(schemas: Iterable[str], using: str | None = None) -> list[str]:
    schemas = list(schemas)
    if not schemas:
        return []
    expected = migrations_on_disk()
    applied = applied_migrations_by_schema(schemas, using)
    return [schema for schema in schemas if not expected <= applied[schema]]


@dataclass
class GroupPlan:
    """What every schema with the same applied migrations needs, worked out once."""

    executor: DjangoMigrationExecutor
    plan: list[tuple[Migration, bool]]
    pre_apps: StateApps
    # The project state before and after each operation of the plan, by id(operation).
    steps: dict[int, tuple[ProjectState, ProjectState]]
    post_apps: StateApps


class ResilientExecutor(MigrationExecutor):
    codename = "kindred"

    def __init__(self, args: Any, options: dict[str, Any]) -> None:
        super().__init__(args, options)
        self.alias: str = options.get("database") or get_tenant_database_alias()
        self.verbosity = int(options.get("verbosity", 1))

    @property
    def connection(self) -> Any:  # django-tenants' wrapper: set_schema() & co. are not in Django's stubs
        return connections[self.alias]

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

    def _can_batch(self) -> bool:
        # Anything but "bring every schema up to date with Django's own command" goes through
        # that command, schema by schema, so its semantics stay exactly Django's.
        base_command = getattr(settings, "TENANT_BASE_MIGRATE_COMMAND", DJANGO_MIGRATE_COMMAND)
        return not (self._targets_specific_state() or self.options.get("run_syncdb")) and (
            base_command == DJANGO_MIGRATE_COMMAND
        )

    def run_migrations(self, tenants: Iterable[str] | None = None) -> None:
        schemas = list(tenants or [])
        public = get_public_schema_name()
        if public in schemas:
            # Public holds the shared apps; it always goes through Django's migrate command.
            run_migrations(self.args, self.options, self.codename, public)
            schemas.remove(public)
        if not schemas:
            return
        started = time.monotonic()
        applied: dict[str, set[tuple[str, str]]] = {}
        if self._targets_specific_state():
            pending = schemas
        else:
            expected = migrations_on_disk()
            applied = applied_migrations_by_schema(schemas, self.alias)
            pending = [schema for schema in schemas if not expected <= applied[schema]]
        skipped = len(schemas) - len(pending)
        if self.verbosity >= 1 and skipped:
            sys.stdout.write(f"{skipped} of {len(schemas)} tenant schemas are up to date; skipped.\n")

        failures: dict[str, str] = {}
        fallback = self._migrate_in_groups(pending, applied, failures) if self._can_batch() else pending
        for idx, schema in enumerate(fallback):
            self._migrate_with_command(schema, idx, len(fallback), failures)

        if self.verbosity >= 1:
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

    # --- Django's migrate command, one schema at a time -----------------------------------

    def _migrate_with_command(self, schema: str, idx: int, count: int, failures: dict[str, str]) -> None:
        try:
            # Inside a caller's transaction a failure must roll back to this schema's savepoint,
            # not abort the caller's whole transaction. Outside one (autocommit) no extra
            # transaction is opened: a non-atomic migration must stay non-atomic.
            with self._savepoint_if_in_transaction():
                run_migrations(self.args, self.options, self.codename, schema, idx=idx, count=count)
        except Exception as exc:  # one tenant's failure must not stop the others
            self._record_failure(schema, exc, failures)
        finally:
            self.connection.set_schema_to_public()

    def _savepoint_if_in_transaction(self) -> AbstractContextManager[Any]:
        return transaction.atomic(using=self.alias) if self.connection.in_atomic_block else nullcontext()

    def _record_failure(self, schema: str, exc: Exception, failures: dict[str, str]) -> None:
        failures[schema] = f"{type(exc).__name__}: {exc}".strip()
        logger.exception("migrations failed in schema %s", schema)
        connection = self.connection
        # The failed schema's transaction (or savepoint) is already rolled back. Closing the
        # connection would also end a caller's transaction (a test's), so only a connection that
        # is actually broken, outside any transaction, is closed; the next query reconnects.
        if not connection.in_atomic_block and connection.connection is not None and not connection.is_usable():
            connection.close()

    # --- the grouped fast path ------------------------------------------------------------

    def _migrate_in_groups(
        self, pending: list[str], applied: dict[str, set[tuple[str, str]]], failures: dict[str, str]
    ) -> list[str]:
        """Migrate what can be done per group; return the schemas left for Django's command."""
        groups: dict[Applied, list[str]] = defaultdict(list)
        for schema in pending:
            groups[frozenset(applied[schema])].append(schema)
        fallback: list[str] = []
        done = 0
        for applied_set, members in groups.items():
            if not applied_set:
                # No django_migrations table yet (a new, empty schema): Django's command creates
                # it and everything else; nothing to share with other schemas anyway.
                fallback += members
                continue
            try:
                with self._savepoint_if_in_transaction():
                    group = self._plan_group(members[0])
            except Exception as exc:  # e.g. inconsistent history: true of every schema in the group
                for schema in members:
                    self._record_failure(schema, exc, failures)
                done += len(members)
                continue
            finally:
                self.connection.set_schema_to_public()
            if group is None:
                fallback += members
                continue
            for schema in members:
                done += 1
                if not self._apply_group_plan(group, applied_set, schema, f"{done}/{len(pending)}", failures):
                    fallback.append(schema)
        return fallback

    def _plan_group(self, schema: str) -> GroupPlan | None:
        """Loader, plan and states for one group, read through one of its schemas.

        None when the plan can't be applied as one transaction per schema: then the group goes
        through Django's command (which applies non-atomic migrations the way they ask).
        """
        connection = self.connection
        # As Django's migrate command does: apps register their signal receivers there.
        for app_config in global_apps.get_app_configs():
            if module_has_submodule(app_config.module, "management"):
                import_module(".management", app_config.name)
        connection.set_schema(schema)
        connection.prepare_database()
        executor = DjangoMigrationExecutor(connection)
        executor.loader.check_consistent_history(connection)
        conflicts = executor.loader.detect_conflicts()
        if conflicts:
            names = "; ".join(f"{', '.join(names)} in {app}" for app, names in conflicts.items())
            raise CommandError(
                f"Conflicting migrations detected; multiple leaf nodes in the migration graph: ({names})."
            )
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if not plan or any(backwards or not migration.atomic for migration, backwards in plan):
            return None
        # The expensive part of Django's command, done once per group instead of once per schema:
        # rendering the state of ~220 migrations, then for each operation a clone of the whole
        # state and the re-rendering of every model related to the one it changes (seconds per
        # schema for a migration touching a model many others point to, such as Member).
        pre_state = executor._create_project_state(with_applied_migrations=True)  # type: ignore[attr-defined]
        state = pre_state.clone()
        befores: list[tuple[int, ProjectState]] = []
        for migration, _ in plan:
            for operation in migration.operations:
                befores.append((id(operation), state.clone()))
                operation.state_forwards(migration.app_label, state)
        # An operation's "after" is the next one's "before" (the same state), the last one's is
        # the final state.
        afters = [before for _, before in befores[1:]] + [state]
        steps = {key: (before, after) for (key, before), after in zip(befores, afters, strict=True)}
        return GroupPlan(
            executor=executor,
            plan=plan,
            pre_apps=pre_state.apps,
            steps=steps,
            post_apps=_post_migrate_apps(state.clone()),
        )

    def _apply_group_plan(
        self, group: GroupPlan, applied_set: Applied, schema: str, progress: str, failures: dict[str, str]
    ) -> bool:
        """Apply the group's plan to one schema in one transaction; False if the schema changed meanwhile."""
        connection = self.connection
        started = time.monotonic()
        # Copies, because pre_migrate receivers may edit a plan's operations (contenttypes adds a
        # RenameContentType after each RenameModel) and must do so once per schema, as with
        # Django's command, which loads fresh Migration objects every time.
        plan = [(_copy_migration(migration), False) for migration, _ in group.plan]
        schema_pre_migration.send(run_migrations, schema_name=schema)
        try:
            connection.set_schema(schema)
            with transaction.atomic(using=self.alias):
                if not self._still_as_planned(schema, applied_set):
                    return False
                emit_pre_migrate_signal(0, False, self.alias, apps=group.pre_apps, plan=plan)
                for migration, _ in plan:
                    self._apply_migration(group, migration)
                emit_post_migrate_signal(0, False, self.alias, apps=group.post_apps, plan=plan)
        except Exception as exc:  # one tenant's failure must not stop the others
            self._record_failure(schema, exc, failures)
            return True
        finally:
            connection.set_schema_to_public()
        schema_migrated.send(run_migrations, schema_name=schema)
        if self.verbosity >= 1:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan)
            sys.stdout.write(
                f"[{progress} {self.codename}:{schema}] applied {names} ({time.monotonic() - started:.2f} s)\n"
            )
        return True

    def _apply_migration(self, group: GroupPlan, migration: Migration) -> None:
        """Django's ``Migration.apply`` for an atomic migration, with the group's precomputed states."""
        with self.connection.schema_editor(atomic=migration.atomic) as schema_editor:
            previous: tuple[ProjectState, ProjectState] | None = None
            for operation in migration.operations:
                states = group.steps.get(id(operation))
                if states is None:
                    # Added by a pre_migrate receiver for this schema (contenttypes'
                    # RenameContentType after a RenameModel): a RunPython changes no state.
                    if previous is None or not isinstance(operation, RunPython):
                        raise CommandError(f"{migration}: a pre_migrate receiver added {operation.describe()!r}.")
                    states = (previous[1], previous[1])
                operation.database_forwards(migration.app_label, schema_editor, *states)
                previous = states
        # Still inside the schema's transaction, after the deferred SQL (indexes, foreign keys).
        group.executor.record_migration(migration)

    def _still_as_planned(self, schema: str, applied_set: Applied) -> bool:
        """Lock the schema's migration table and check nobody migrated it since we read it.

        Two migrate_schemas runs at once (or one started while a killed one's transaction is
        still being aborted) then queue here instead of both applying the same plan.
        """
        table = f"{self.connection.ops.quote_name(schema)}.django_migrations"
        with self.connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(f"SELECT app, name FROM {table}")  # noqa: S608 (a quoted schema name)
            return frozenset(cursor.fetchall()) == applied_set


def _copy_migration(migration: Migration) -> Migration:
    clone = copy.copy(migration)
    clone.operations = list(migration.operations)  # type: ignore[misc]
    return clone


def _post_migrate_apps(post_state: ProjectState) -> StateApps:
    """The apps post_migrate receivers get, built as Django's migrate command builds them."""
    post_state.clear_delayed_apps_cache()
    post_apps = post_state.apps
    # Re-render the models of real apps with their relations, now that the state is final.
    with post_apps.bulk_update():
        model_keys = []
        for model_state in post_apps.real_models:
            model_key = model_state.app_label, model_state.name_lower
            model_keys.append(model_key)
            post_apps.unregister_model(*model_key)
    post_apps.render_multiple([ModelState.from_model(global_apps.get_model(*model)) for model in model_keys])
    return post_apps


def get_executor(codename: str | None = None) -> type[ResilientExecutor]:
    return ResilientExecutor
