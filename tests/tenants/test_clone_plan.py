"""A clone from the cached DDL plan (tenants/cloning.py) equals a schema built by running every migration.

Compared object by object from pg_catalog: tables, columns (type, nullability, default, identity,
collation), indexes, constraints (PostgreSQL 18's named NOT NULL ones included), sequences,
triggers and functions, with the schema's own name taken out of every definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants import cloning
from tenants.db import use_public_schema
from tenants.models import Tenant
from tenants.services import provision_tenant, provision_tenant_by_migrating


def _fetch(sql: str, params: Any) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _casts_out(definition: str) -> str:
    """PostgreSQL deparses a re-parsed partial index predicate with its casts moved
    (``(ARRAY['a'::varchar])::text[]`` comes back as ``ARRAY[('a'::varchar)::text]``), as a
    dump and restore would: compare predicates without casts, parentheses and spaces."""
    return re.sub(r"::[a-z ]+(\[\])?|[() ]", "", definition)


def catalog(schema: str) -> dict[str, set[tuple]]:
    """Everything a schema holds, with its own name replaced by "S"."""
    use_public_schema()
    strip = re.compile(rf"(?<![\w\"]){re.escape(schema)}\.")

    def clean(rows: list[tuple]) -> set[tuple]:
        return {tuple(strip.sub("S.", v) if isinstance(v, str) else v for v in row) for row in rows}

    def indexes(rows: list[tuple]) -> set[tuple]:
        return {(*row[:-1], _casts_out(row[-1])) for row in clean(rows)}

    oid = _fetch("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])[0][0]
    return {
        "tables": clean(_fetch("SELECT relname, relkind, relpersistence FROM pg_class WHERE relnamespace = %s", [oid])),
        "columns": clean(
            _fetch(
                "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, "
                "a.attgenerated, pg_get_expr(d.adbin, d.adrelid), a.attcollation "
                "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE c.relnamespace = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
                [oid],
            )
        ),
        "indexes": indexes(
            _fetch(
                "SELECT c.relname, i.indrelid::regclass::text, i.indnatts, i.indclass::text, i.indoption::text, "
                "i.indisunique, i.indisprimary, i.indnullsnotdistinct, am.amname, "
                "pg_get_expr(i.indexprs, i.indrelid), pg_get_indexdef(c.oid) FROM pg_class c "
                "JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_am am ON am.oid = c.relam "
                "WHERE c.relnamespace = %s",
                [oid],
            )
        ),
        "constraints": clean(
            _fetch(
                "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.condeferrable, "
                "k.condeferred, k.convalidated FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                "WHERE c.relnamespace = %s",
                [oid],
            )
        ),
        "sequences": clean(
            _fetch(
                "SELECT c.relname, s.seqtypid, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, "
                "s.seqcycle, d.refobjsubid, t.relname FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
                "LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass "
                "AND d.refclassid = 'pg_class'::regclass LEFT JOIN pg_class t ON t.oid = d.refobjid "
                "WHERE c.relnamespace = %s",
                [oid],
            )
        ),
        "triggers": clean(
            _fetch(
                "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = %s AND NOT t.tgisinternal",
                [oid],
            )
        ),
        "functions": clean(
            _fetch("SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = %s", [oid])
        ),
    }


@pytest.fixture
def migrated_and_cloned(committed_db: None, tenant_a: Any) -> Iterator[tuple[str, str]]:
    """Migrations need real commits (deferred foreign keys): both tenants are committed, then dropped."""
    slugs = ["plan-cloned", "plan-migrated"]
    try:
        cloning.forget_plans()
        cloned = provision_tenant(name="Cloned", slug=slugs[0], domain="plan-cloned.localhost").tenant
        migrated = provision_tenant_by_migrating(name="Migrated", slug=slugs[1], domain="plan-migrated.localhost")
        yield cloned.schema_name, migrated.schema_name
    finally:
        use_public_schema()
        for tenant in Tenant.objects.filter(slug__in=slugs):
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
            tenant.domains.all().delete()
            tenant.delete(force_drop=False)


@pytest.mark.integration
def test_a_clone_equals_a_migrated_schema(migrated_and_cloned):
    cloned_schema, migrated_schema = migrated_and_cloned
    clone, reference = catalog(cloned_schema), catalog(migrated_schema)

    assert len(reference["tables"]) > 100  # tables, their indexes and sequences
    assert reference["triggers"], "the moderation log's append-only triggers"
    for kind in reference:
        assert clone[kind] == reference[kind], (
            kind,
            sorted(clone[kind] - reference[kind])[:5],
            sorted(reference[kind] - clone[kind])[:5],
        )
    assert catalog(settings.TENANT_BASE_SCHEMA) == reference
    assert _fetch(f'SELECT app, name FROM "{cloned_schema}".django_migrations ORDER BY id', []) == _fetch(
        f'SELECT app, name FROM "{settings.TENANT_BASE_SCHEMA}".django_migrations ORDER BY id', []
    )


@pytest.mark.django_db
def test_a_clone_carries_the_templates_rows_and_sequence_positions(tenant_a):
    template = settings.TENANT_BASE_SCHEMA
    # The clone alone: provisioning's later steps (the CMS home page) add rows of their own.
    target = "plan_rows"
    cloning.clone_schema_from_plan(template=template, target=target)
    for table in ("django_migrations", "wagtailcore_page", "wagtailcore_locale", "django_content_type"):
        assert _fetch(f'SELECT count(*) FROM "{target}".{table}', []) == _fetch(
            f'SELECT count(*) FROM "{template}".{table}', []
        )
    # The sequences stand where the template's stand: the next migration row gets a fresh id, not 1.
    sequence = "django_migrations_id_seq"
    (last, called) = _fetch(f'SELECT last_value, is_called FROM "{template}".{sequence}', [])[0]
    (next_id,) = _fetch(f"SELECT nextval('\"{target}\".{sequence}')", [])[0]
    (template_max,) = _fetch(f'SELECT max(id) FROM "{template}".django_migrations', [])[0]
    assert next_id == (last + 1 if called else last)
    assert next_id > template_max


@pytest.mark.django_db
def test_the_plan_is_read_once_and_again_after_the_template_changes(tenant_a):
    cloning.forget_plans()
    provision_tenant(name="First", slug="plan-first", domain="plan-first.localhost")
    with CaptureQueriesContext(connection) as captured:
        provision_tenant(name="Second", slug="plan-second", domain="plan-second.localhost")
    assert not [q for q in captured.captured_queries if "pg_attribute" in q["sql"]]

    template = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{template}".communities_tag ADD COLUMN plan_probe integer')
        cursor.execute(
            f"INSERT INTO \"{template}\".django_migrations (app, name, applied) VALUES ('communities', 'probe', now())"
        )
    third = provision_tenant(name="Third", slug="plan-third", domain="plan-third.localhost").tenant
    columns = _fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'communities_tag'",
        [third.schema_name],
    )
    assert ("plan_probe",) in columns
