"""Provisioning partner tenants by cloning the migrated template schema."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from tenants.models import Domain, Tenant
from tenants.services import provision_tenant
from tests.conftest import TENANT_A, host_client

pytestmark = pytest.mark.django_db


def _fetch(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def applied_migrations(schema: str) -> set[tuple[str, str]]:
    return set(_fetch(f'SELECT app, name FROM "{schema}".django_migrations'))


def tables_and_columns(schema: str) -> set[tuple[str, str, str]]:
    return set(
        _fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = %s",
            [schema],
        )
    )


def constraint_and_index_names(schema: str) -> set[tuple[str, str]]:
    constraints = _fetch(
        "SELECT cl.relname, k.conname FROM pg_constraint k JOIN pg_class cl ON cl.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = %s",
        [schema],
    )
    indexes = _fetch("SELECT tablename, indexname FROM pg_indexes WHERE schemaname = %s", [schema])
    return set(constraints) | set(indexes)


def foreign_defaults(schema: str) -> list[tuple]:
    """Column defaults that still point at the template (a clone bug would leave them there)."""
    return _fetch(
        "SELECT table_name, column_name, column_default FROM information_schema.columns "
        "WHERE table_schema = %s AND column_default LIKE %s",
        [schema, f"%{settings.TENANT_BASE_SCHEMA}%"],
    )


def counts() -> tuple[int, int, int]:
    schemas = _fetch("SELECT count(*) FROM pg_namespace")[0][0]
    return Tenant.objects.count(), Domain.objects.count(), schemas


def test_cloned_constraints_and_indexes_keep_their_migration_names(tenant_a):
    """Later migrations drop or alter constraints by name: a clone must use the same names."""
    cloned = provision_tenant(name="Names", slug="names-check", domain="names-check.localhost").tenant
    template = constraint_and_index_names(settings.TENANT_BASE_SCHEMA)
    assert ("communities_topicsubscription", "one_topic_subscription") in template
    assert constraint_and_index_names(cloned.schema_name) == template
    assert constraint_and_index_names(tenant_a.schema_name) == template


def test_provisioning_is_idempotent(tenant_a):
    again = provision_tenant(**TENANT_A)
    assert again.created is False
    assert again.tenant.pk == tenant_a.pk
    assert Domain.objects.filter(tenant=tenant_a).count() == 1


def test_provisioned_tenant_is_routed_and_themed():
    report = provision_tenant(
        name="Gamma Heart Foundation",
        slug="gamma-heart",
        domain="gamma-heart.localhost",
        theme={"primary_colour": "#aa0033"},
    )
    assert report.created
    assert [step.name for step in report.steps] == [
        "clear leftovers",
        "clone template schema",
        "configure tenant",
    ]
    page = host_client("gamma-heart.localhost").get("/")
    assert page.status_code == 200
    assert "Gamma Heart Foundation" in page.content.decode()
    assert "--brand: #aa0033" in page.content.decode()


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"slug": TENANT_A["slug"], "domain": "other.localhost"}, "slug"),
        ({"slug": "fresh-slug", "domain": TENANT_A["domain"]}, "domain"),
        ({"slug": "www"}, "slug"),
        ({"slug": "public"}, "slug"),
        ({"slug": "admin"}, "slug"),
        ({"slug": "pg-catalog"}, "slug"),
        ({"slug": "tenant-template"}, "slug"),
        ({"slug": "Bad Slug!"}, "slug"),
        ({"slug": "-edge"}, "slug"),
        ({"slug": "ab"}, "slug"),
        ({"domain": "www.localhost"}, "domain"),
        ({"domain": "admin.localhost"}, "domain"),
        ({"domain": "localhost"}, "domain"),
        ({"domain": "http://x.example.org/"}, "domain"),
        ({"domain": "x.example.org:8000"}, "domain"),
        ({"domain": "under_score.example.org"}, "domain"),
        ({"domain": "10.0.0.1"}, "domain"),
        ({"domain": "nodots"}, "domain"),
        ({"domain": ""}, "domain"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_gets_a_clear_error_and_creates_nothing(spec, field):
    request = {"name": "Delta", "slug": "delta-group", "domain": "delta-group.localhost", **spec}
    before = counts()
    with pytest.raises(ValidationError) as error:
        provision_tenant(**request)
    assert field in error.value.message_dict
    assert error.value.message_dict[field][0]
    assert counts() == before


def test_command_reports_errors_and_creates_nothing(capsys):
    before = counts()
    with pytest.raises(CommandError, match="reserved"):
        call_command("provision_tenant", name="WWW", slug="www", domain="www.example.org")
    assert counts() == before
    call_command("provision_tenant", name="Epsilon", slug="epsilon-org", domain="epsilon.example.org")
    assert "Provisioned Epsilon" in capsys.readouterr().out
    call_command("provision_tenant", name="Epsilon", slug="epsilon-org", domain="epsilon.example.org")
    assert "already exists" in capsys.readouterr().out


def test_leftover_schema_from_an_outside_attempt_is_cleared_and_the_job_finished():
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA zeta_group")
        cursor.execute("CREATE TABLE zeta_group.half_made (id int)")
    report = provision_tenant(name="Zeta", slug="zeta-group", domain="zeta-group.localhost")
    assert report.created
    assert not _fetch(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = 'zeta_group' AND table_name = 'half_made'"
    )
    assert applied_migrations("zeta_group") == applied_migrations("alpha_alliance")
