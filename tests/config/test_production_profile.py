"""The production profile as documented: gunicorn (--preload) + Celery worker + beat on the
machine's PostgreSQL and Redis, DEBUG off, driven over HTTP.

It needs the PostgreSQL (127.0.0.1:5432, user postgres, trust) and Redis (127.0.0.1:6379) that
every project machine runs; elsewhere it is skipped with that reason, except on CI, where it fails.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

pytestmark = pytest.mark.integration

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
ROOT = "kindred.test"
PARTNER = "acme.kindred.test"


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Profile:
    port: int
    env: dict[str, str]
    data_dir: Path
    logs: dict[str, Path] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, name: str, command: list[str]) -> None:
        log = self.data_dir / f"{name}.log"
        self.logs[name] = log
        with log.open("wb") as out:
            self.processes[name] = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def request(
        self, path: str, *, host: str = ROOT, https: bool = True, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        sent = {"Host": host, **({"X-Forwarded-Proto": "https"} if https else {}), **(headers or {})}
        try:
            conn.request("GET", path, headers=sent)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
        finally:
            conn.close()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(scope="module")
def profile() -> Iterator[Profile]:
    if not (_listening(PG_HOST, PG_PORT) and _listening(REDIS_HOST, REDIS_PORT)):
        reason = "the machine's PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are needed"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)

    suffix = uuid.uuid4().hex[:8]
    database = f"kindred_prod_{suffix}"
    admin_uri = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
    with psycopg.connect(admin_uri, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    data_dir = Path(settings.DATA_DIR) / f"prod-{suffix}"
    data_dir.mkdir()
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(settings.BASE_DIR),
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{database}",
        # Database 13 of the machine's Redis: the suite's worker tests use 15.
        "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/13",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "KINDRED_DEBUG": "0",
        "KINDRED_SCHEME": "https",
        "KINDRED_PORT": "",
        "KINDRED_ROOT_DOMAIN": ROOT,
        "KINDRED_BEHIND_PROXY": "1",
        "KINDRED_DATA_DIR": str(data_dir),
        "KINDRED_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
    }
    running = Profile(port=port, env=env, data_dir=data_dir)
    try:
        for step in (
            ["bootstrap"],
            ["provision_tenant", "--name", "Acme Patients", "--slug", "acme", "--domain", PARTNER],
            ["collectstatic", "--noinput"],
        ):
            done = running.manage(*step)
            assert done.returncode == 0, f"{step}: {done.stdout}{done.stderr}"
        python = sys.executable
        running.start("web", [python, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"])
        running.start("worker", [python, "-m", "celery", "-A", "config", "worker", "--pool=threads", "-c", "2"])
        running.start("beat", [python, "-m", "celery", "-A", "config", "beat", f"--schedule={data_dir / 'beat'}"])
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if running.request("/healthz/")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("gunicorn did not answer within 90 s:\n" + running.logs["web"].read_text()[-3000:])
        yield running
    finally:
        running.stop()
        with psycopg.connect(admin_uri, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


def test_check_deploy_is_clean(profile: Profile) -> None:
    done = profile.manage("check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_liveness_and_readiness_on_the_root_and_a_partner(profile: Profile) -> None:
    assert profile.request("/healthz/")[0] == 200
    for host in (ROOT, PARTNER):
        status, _, body = profile.request("/readyz/", host=host)
        assert status == 200, body
        assert json.loads(body)["checks"] == {"database": "ok", "broker": "ok"}


def test_pages_carry_the_security_headers(profile: Profile) -> None:
    status, headers, _ = profile.request("/", host=PARTNER)
    assert status == 200
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["strict-transport-security"]
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert len(headers["x-request-id"]) == 32


def test_plain_http_is_sent_to_https(profile: Profile) -> None:
    status, headers, _ = profile.request("/", host=PARTNER, https=False)
    assert status == 301
    assert headers["location"] == f"https://{PARTNER}/"


def test_an_unknown_url_shows_no_debug_page(profile: Profile) -> None:
    status, _, body = profile.request("/no-such-page/")
    assert status == 404
    assert "URLconf" not in body
    assert "DEBUG = True" not in body
    assert "Traceback" not in body


def test_log_lines_are_json_with_the_request_id_and_tenant(profile: Profile) -> None:
    request_id = f"probe-{uuid.uuid4().hex[:12]}"
    status, headers, _ = profile.request("/missing-on-a-partner/", host=PARTNER, headers={"X-Request-ID": request_id})
    assert status == 404
    assert headers["x-request-id"] == request_id
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        records = []
        for line in profile.logs["web"].read_text().splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        mine = [record for record in records if record["request_id"] == request_id]
        if mine:
            break
        time.sleep(0.2)
    assert mine, profile.logs["web"].read_text()[-3000:]
    assert mine[0]["tenant"] == "acme"
    assert mine[0]["level"] == "WARNING"
    assert "/missing-on-a-partner/" in mine[0]["message"]


def test_the_worker_and_beat_run(profile: Profile) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "inspect", "ping", "--timeout", "10"],
        cwd=settings.BASE_DIR,
        env=profile.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pong" in done.stdout
    assert profile.processes["beat"].poll() is None, profile.logs["beat"].read_text()[-2000:]
