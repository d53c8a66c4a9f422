"""Provisioning that must really commit: django-tenants' migrate path and a killed process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context, schema_exists, tenant_context

from communities.models import Community
from tenants.models import Domain, Tenant
from tenants.services import provision_tenant, provision_tenant_by_migrating
from tests.conftest import ROOT, host_client
from tests.tenants.test_provisioning import (
    _fetch,
    applied_migrations,
    constraint_and_index_names,
    foreign_defaults,
    tables_and_columns,
)

pytestmark = pytest.mark.integration


def test_clone_matches_a_migrated_schema(committed_db):
    """Migrations run in their own transactions (Wagtail's need it), so this one really commits."""
    try:
        _compare_clone_with_migrated()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS cloned_one CASCADE")
            cursor.execute("DROP SCHEMA IF EXISTS migrated_one CASCADE")
        Tenant.objects.filter(slug__in=["cloned-one", "migrated-one"]).delete()


def _compare_clone_with_migrated() -> None:
    cloned = provision_tenant(name="Cloned", slug="cloned-one", domain="cloned-one.localhost").tenant
    migrated = provision_tenant_by_migrating(name="Migrated", slug="migrated-one", domain="migrated-one.localhost")

    assert applied_migrations("cloned_one") == applied_migrations("migrated_one")
    assert len(applied_migrations("cloned_one")) > 150  # Wagtail's included
    assert tables_and_columns("cloned_one") == tables_and_columns("migrated_one")
    assert constraint_and_index_names("cloned_one") == constraint_and_index_names("migrated_one")
    assert foreign_defaults("cloned_one") == []

    for tenant in (cloned, migrated):
        with tenant_context(tenant):
            from django.contrib.auth.models import Group
            from wagtail.models import Page, Site

            root = Page.get_first_root_node()
            assert root is not None
            assert root.depth == 1
            site = Site.objects.get(is_default_site=True)
            assert site.hostname == tenant.primary_domain
            # Sequences work in both: new rows get fresh ids with no collisions.
            first = Community.objects.create(name="One", slug="one")
            second = Community.objects.create(name="Two", slug="two")
            assert second.pk == first.pk + 1
            page = site.root_page.add_child(instance=Page(title="Hello", slug="hello"))
            assert page.pk > site.root_page.pk
            assert Group.objects.create(name=f"New group {tenant.slug}").pk > 0

    with schema_context(settings.TENANT_BASE_SCHEMA):
        assert Community.objects.count() == 0  # the template never receives content
    template_sequences = _fetch("SELECT last_value, is_called FROM tenant_template.communities_community_id_seq")
    assert template_sequences == [(1, False)]


def test_killed_provisioning_leaves_nothing_and_a_retry_finishes(committed_db):
    """SIGKILL the command while it is inside its transaction (blocked on a lock we hold)."""
    slug, domain = "killed-midway", "killed-midway.localhost"
    env = {**os.environ, "KINDRED_DATABASE_NAME": settings.DATABASES["default"]["NAME"]}
    command = [sys.executable, "manage.py", "provision_tenant", "--name", "Killed", "--slug", slug, "--domain", domain]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    try:
        with psycopg.connect(**params) as blocker:
            # Holding the theme table makes provisioning stop after the clone and the Domain row.
            blocker.execute("LOCK TABLE public.themes_theme IN ACCESS EXCLUSIVE MODE")
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            backend = None
            deadline = time.monotonic() + 60
            while backend is None and time.monotonic() < deadline:
                with psycopg.connect(**params, autocommit=True) as watcher:
                    row = watcher.execute(
                        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
                        ["%themes_theme%"],
                    ).fetchone()
                backend = row[0] if row else None
                time.sleep(0.05)
            assert backend is not None, process.communicate(timeout=5)[0]
            process.kill()
            process.wait(timeout=10)
            blocker.rollback()
        with psycopg.connect(**params, autocommit=True) as watcher:
            # PostgreSQL notices a dead client at its next write; end the orphaned backend now.
            watcher.execute("SELECT pg_terminate_backend(%s)", [backend])
        assert not schema_exists("killed_midway")
        assert not Tenant.objects.filter(slug=slug).exists()
        assert not Domain.objects.filter(domain=domain).exists()

        finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        assert "Provisioned Killed" in finished.stdout
        assert schema_exists("killed_midway")
        assert host_client(domain).get("/").status_code == 200
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS killed_midway CASCADE")
        Tenant.objects.filter(slug=slug).delete()
