"""Test database and tenants, made once per session.

The test database is kept between runs (like ``--reuse-db``) and rebuilt only when a migration
file changes (a fingerprint of them is stored as the database comment). Public, the template and
two partner tenants are migrated/cloned once; every test then runs inside a transaction that is
rolled back, DDL included. Tests that need real commits (Celery worker, live server, browser)
use ``committed_db`` and every member they create is erased across all schemas afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client

from config.embedded_db import admin_connection
from tenants.db import use_public_schema

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
COMMITTED_EMAIL_DOMAIN = "committed.test"
PASSWORD = "correct-horse-battery-staple"

TENANT_A = {"name": "Alpha Lupus Alliance", "slug": "alpha-alliance", "domain": "alpha-alliance.localhost"}
TENANT_B = {"name": "Beta MS Society", "slug": "beta-society", "domain": "beta-society.localhost"}


def _migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    # Third-party apps bring their own migrations (allauth's tables in public).
    digest.update(",".join(settings.INSTALLED_APPS).encode())
    # The tenants' provisioning code (and the CMS's provisioning hook) shapes the session's cloned schemas too.
    for path in [
        *sorted(ROOT.glob("*/migrations/*.py")),
        ROOT / "tenants" / "services.py",
        ROOT / "cms" / "services.py",
        ROOT / "tenants" / "cloning.py",
    ]:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _prepare_test_database(name: str, fingerprint: str) -> bool:
    """Create (or recreate when migrations changed) the test database; True if it is new."""
    with admin_connection(settings.DATABASES["default"]) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is not None and row[0] == fingerprint:
            return False
        if row is not None:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        return True


def _mark_test_database_ready(name: str, fingerprint: str) -> None:
    # Only once migrated and provisioned: a run killed half-way leaves no mark, so the next
    # run starts again from an empty database instead of trusting a half-migrated one.
    with admin_connection(settings.DATABASES["default"]) as admin:
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{fingerprint}'")


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker: Any) -> Iterator[None]:
    from tenants.services import bootstrap_platform, provision_tenant

    test_name = settings.DATABASES["default"]["TEST"]["NAME"]
    fingerprint = _migrations_fingerprint()
    _prepare_test_database(test_name, fingerprint)
    for alias in connections:
        connections[alias].close()
    settings.DATABASES["default"]["NAME"] = test_name
    connections["default"].settings_dict["NAME"] = test_name
    with django_db_blocker.unblock():
        _drop_leftover_tenants()
        bootstrap_platform()
        for spec in (TENANT_A, TENANT_B):
            provision_tenant(name=spec["name"], slug=spec["slug"], domain=spec["domain"], listed=True)
        erase_committed_members()
    _mark_test_database_ready(test_name, fingerprint)
    yield
    for alias in connections:
        connections[alias].close()


@pytest.fixture(autouse=True)
def _fast_defaults(settings: Any) -> Iterator[None]:
    from config.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Most tests' members are new and post a lot: the new-member limits are tested on their own
    # (tests/communities/test_safety.py switches them back on).
    settings.KINDRED_NEW_MEMBER_LIMITS = False
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    # Every test starts with an empty cache: rows a cached page showed may have been rolled back.
    from django.core.cache import cache

    cache.clear()
    yield
    app.conf.task_always_eager = False
    use_public_schema()


@pytest.fixture
def tenant_a(django_db_setup: None, django_db_blocker: Any) -> Any:
    from tenants.models import Tenant

    with django_db_blocker.unblock():
        return Tenant.objects.get(slug=TENANT_A["slug"])


@pytest.fixture
def tenant_b(django_db_setup: None, django_db_blocker: Any) -> Any:
    from tenants.models import Tenant

    with django_db_blocker.unblock():
        return Tenant.objects.get(slug=TENANT_B["slug"])


def _drop_leftover_tenants() -> None:
    """Tenants that an interrupted committed test left behind (the session's own two stay)."""
    from tenants.models import Tenant
    from tenants.services import schema_name_for

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.tenants_tenant')")
        if cursor.fetchone()[0] is None:
            return
        keep = [schema_name_for(TENANT_A["slug"]), schema_name_for(TENANT_B["slug"])]
        cursor.execute(
            "SELECT schema_name FROM public.tenants_tenant WHERE kind = 'partner' AND NOT (schema_name = ANY(%s))",
            [keep],
        )
        for (schema,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    Tenant.objects.filter(kind="partner").exclude(schema_name__in=keep).delete()


def host_client(host: str, **kwargs: Any) -> Client:
    """A browser of one host: its own cookie jar, as a real browser keeps host-only cookies apart."""
    return Client(HTTP_HOST=host, **kwargs)


@pytest.fixture
def root_client() -> Client:
    return host_client(settings.ROOT_DOMAIN)


@pytest.fixture
def client_a(tenant_a: Any) -> Client:
    return host_client(TENANT_A["domain"])


@pytest.fixture
def client_b(tenant_b: Any) -> Client:
    return host_client(TENANT_B["domain"])


APPEND_ONLY_TABLES = frozenset({"communities_moderationaction", "research_researchevent"})


def _delete_rows_of(cursor: Any, *, schema: str, table: str, column: str, ids: list[int]) -> None:
    append_only = table in APPEND_ONLY_TABLES
    if append_only:
        # The database refuses deletes there (a trigger); a committed test's rows must still go,
        # or every later test would see them. Only the table's owner can lift it, as here.
        cursor.execute(f'ALTER TABLE "{schema}"."{table}" DISABLE TRIGGER USER')
    cursor.execute(f'DELETE FROM "{schema}"."{table}" WHERE "{column}" = ANY(%s)', [ids])
    if append_only:
        cursor.execute(f'ALTER TABLE "{schema}"."{table}" ENABLE TRIGGER USER')


def erase_committed_members() -> None:
    """Delete members made by committed tests, and every row in any schema that points at them."""
    with connection.cursor() as cursor:
        cursor.execute("SET search_path TO public")
        cursor.execute("SELECT id FROM public.members_member WHERE email LIKE %s", [f"%@{COMMITTED_EMAIL_DOMAIN}"])
        ids = [row[0] for row in cursor.fetchall()]
        if ids:
            # Tenant tables keep no foreign key into public: the columns come from model meta.
            from privacy.registry import member_reference_columns

            cursor.execute(
                "SELECT t.schema_name FROM public.tenants_tenant t JOIN pg_namespace n ON n.nspname = t.schema_name "
                "WHERE t.schema_name <> 'public' ORDER BY 1"
            )
            tenant_schemas = [row[0] for row in cursor.fetchall()]
            pending = [("public", table, column) for table, column in member_reference_columns(schema="public")]
            tenant_columns = member_reference_columns(schema="tenant")
            pending += [(schema, table, column) for schema in tenant_schemas for table, column in tenant_columns]
            # Rows pointing at these members may be pointed at in turn (a token's audit events):
            # a delete that another table's rows still block is tried again after the others.
            for _attempt in range(5):
                blocked = []
                for schema, table, column in pending:
                    try:
                        with transaction.atomic():
                            _delete_rows_of(cursor, schema=schema, table=table, column=column, ids=ids)
                    except IntegrityError:
                        blocked.append((schema, table, column))
                pending = blocked
                if not pending:
                    break
            cursor.execute("DELETE FROM public.members_member WHERE id = ANY(%s)", [ids])
    use_public_schema()


@pytest.fixture
def committed_db(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Real commits (for a worker or a live server); cleans up the members it made."""
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            use_public_schema()
            erase_committed_members()


def signed_in(host: str, member: Any, *, mfa: bool = True, **kwargs: Any) -> Client:
    """A client of ``host`` with a session for ``member`` (as the hand-off would leave it).

    ``mfa``: the session passed two-factor at the root sign-in, as staff, partner admins and
    moderators must before privileged areas open (tests/members/test_account_security.py checks that)."""
    client = host_client(host, **kwargs)
    client.force_login(member)
    bind_test_session(client, host=host, member=member, mfa=mfa)
    return client


def bind_test_session(client: Client, *, host: str, member: Any, mfa: bool = True) -> None:
    """Record on a ``force_login`` session what a real sign-in records: host, tenant, generation."""
    from members.mfa import MFA_SESSION_KEY
    from members.middleware import SESSION_GENERATION_KEY, SESSION_HOST_KEY, SESSION_SCHEMA_KEY
    from tenants.models import Domain

    name = host.split(":")[0].lower()
    session = client.session
    session[SESSION_GENERATION_KEY] = member.session_generation
    session[SESSION_HOST_KEY] = name
    session[SESSION_SCHEMA_KEY] = Domain.objects.select_related("tenant").get(domain=name).tenant.schema_name
    session[MFA_SESSION_KEY] = mfa
    session.save()
