"""PgBouncer (Debian's package) in front of the test database.

Session pooling: a representative set of the suite (tenant isolation and routing, the request floor,
a signed-in request smoke) runs in a pytest subprocess whose every connection goes through PgBouncer.
Transaction pooling: the platform refuses to start (config/pooling.py), since a tenant's schema is
a session setting that the next transaction could find on another client's connection.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from config.embedded_db import resolve_embedded_settings
from tests.runtime_harness import free_port, listening, stop, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(settings.BASE_DIR)
# Isolation between tenants, routing, the query floor, signed-in pages and hand-offs through the pooler.
REPRESENTATIVE = [
    "tests/tenants/test_routing.py",
    "tests/tenants/test_request_floor.py",
    "tests/members/test_session_binding.py",
]


def _pgbouncer(mode: str) -> Iterator[int]:
    if shutil.which("pgbouncer") is None:
        pytest.fail("pgbouncer is not installed (Debian: apt-get install pgbouncer; .ci/run installs it)")
    params = resolve_embedded_settings(dict(settings.DATABASES["default"]))
    port = free_port()
    # Readable by the user PgBouncer switches to when started as root (below).
    workdir = Path(tempfile.mkdtemp(prefix="kindred-pgbouncer-"))
    workdir.chmod(0o777)
    (workdir / "users.txt").write_text('"postgres" ""\n')
    host = params.get("HOST") or "127.0.0.1"
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={host} port={params.get("PORT") or 5432} user={params.get("USER") or "postgres"}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "users.txt"}
pool_mode = {mode}
max_client_conn = 200
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
logfile = {workdir / "pgbouncer.log"}
"""
    )
    for path in workdir.iterdir():
        path.chmod(0o666)
    command = ["pgbouncer", str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # PgBouncer will not run as root: it runs as the owner of the server's socket folder (the
        # embedded server's own system user), or nobody for a TCP server.
        owner = Path(host).owner() if host.startswith("/") else "nobody"
        command[1:1] = ["-u", owner]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: listening(port), timeout=20, what="pgbouncer", log=workdir / "pgbouncer.log")
        yield port
    finally:
        stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def session_pooler(django_db_setup: None) -> Iterator[int]:
    yield from _pgbouncer("session")


@pytest.fixture
def transaction_pooler(django_db_setup: None) -> Iterator[int]:
    yield from _pgbouncer("transaction")


def _through(port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_VERSION"}
    name = str(settings.DATABASES["default"]["NAME"])
    env.update(
        PYTHONPATH=str(ROOT),
        # The suite's own test database (already built), reached only through PgBouncer.
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/{name.removeprefix('test_')}",
        KINDRED_TEST_DATABASE=name,
        KINDRED_DATABASE_NAME="",
    )
    return env


def _run(command: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_isolation_and_smoke_tests_pass_through_session_pooling(session_pooler: int) -> None:
    env = _through(session_pooler)
    done = _run([sys.executable, "-m", "pytest", *REPRESENTATIVE, "-q", "-p", "no:cacheprovider"], env)
    assert done.returncode == 0, done.stdout[:3000] + done.stdout[-2000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
    # And the web entry point starts there.
    started = _run([sys.executable, "-c", "import config.wsgi"], env, timeout=120)
    assert started.returncode == 0, started.stderr[-3000:]


def test_the_platform_refuses_to_start_under_transaction_pooling(transaction_pooler: int) -> None:
    env = _through(transaction_pooler)
    started = _run([sys.executable, "-c", "import config.wsgi"], env, timeout=120)
    assert started.returncode != 0
    assert "pool_mode = transaction" in started.stderr
    checked = _run([sys.executable, "manage.py", "check", "--database", "default"], env, timeout=120)
    assert checked.returncode != 0
    assert "kindred.E001" in checked.stderr
