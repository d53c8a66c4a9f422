"""`manage.py run_platform` (behind `make run`): starts web, worker and beat; stops all of them and the
embedded PostgreSQL on Ctrl-C, or when one child dies. Runs against a fresh data dir of its own."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 300  # a cold start (initdb and every migration) takes about 25 s alone, minutes on a busy machine
STOP_TIMEOUT = 30
# Variables that would point the supervisor away from its own fresh data dir.
FOREIGN_ENV = {"DATABASE_URL", "KINDRED_DATABASE_NAME", "KINDRED_PORT", "CELERY_BROKER_URL", "REDIS_URL"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("0.0.0.0", 0))
        return probe.getsockname()[1]


def answers(port: int) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/", headers={"Host": "localhost"})
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """The postmaster (``-D <pgdata>``) and its backends (their working directory is the data dir)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "cwd"]):
        if not (proc.info["name"] or "").startswith("postgres"):
            continue
        if str(pgdata) in " ".join(proc.info["cmdline"] or []) or proc.info["cwd"] == str(pgdata):
            found.append(proc)
    return found


def wait_until(check, *, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


class Platform:
    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "pgdata"
        self.log = log
        self.port = free_port()
        env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
        env.update(KINDRED_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "run_platform", "--port", str(self.port), "--no-demo"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.children: list[psutil.Process] = []

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self) -> str:
        return self.output()[-6000:]

    def wait_until_web_answers(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"run_platform exited early:\n{self.tail()}"
            # Both: the server answers, and the supervisor noticed and printed the URLs.
            if answers(self.port) == 200 and "web server answers" in self.output():
                return
            time.sleep(0.5)
        pytest.fail(f"no answer on port {self.port} within {START_TIMEOUT} s:\n{self.tail()}")

    def child(self, role: str) -> psutil.Process:
        matches = [proc for proc in self.children if role in proc.cmdline()]
        assert len(matches) == 1, [proc.cmdline() for proc in self.children]
        return matches[0]

    def cleanup(self) -> None:
        """Leave nothing running even when an assertion failed half-way."""
        with contextlib.suppress(psutil.Error):
            psutil.Process(self.process.pid).kill()
        for proc in self.children:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        self.process.wait(timeout=10)
        for proc in postgres_processes(self.pgdata):
            with contextlib.suppress(psutil.Error):
                proc.terminate()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by the tests of this module: the first pays for the cold start, the second reuses it.
    return tmp_path_factory.mktemp("kindred-data").resolve()


@pytest.fixture
def platform(data_dir: Path, tmp_path: Path) -> Iterator[Platform]:
    running = Platform(data_dir, tmp_path / "run_platform.log")
    try:
        yield running
    finally:
        if running.process.poll() is None or any(proc.is_running() for proc in running.children):
            running.cleanup()


def test_ctrl_c_stops_web_worker_beat_and_the_database(platform: Platform):
    started = time.monotonic()
    platform.wait_until_web_answers()
    cold_start = time.monotonic() - started

    supervisor = psutil.Process(platform.process.pid)
    platform.children = supervisor.children()
    assert len(platform.children) == 3
    web, worker, beat = platform.child("runserver"), platform.child("worker"), platform.child("beat")
    assert all(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE for proc in (web, worker, beat))
    # Their own process groups: a terminal's Ctrl-C reaches only the supervisor.
    assert all(os.getpgid(proc.pid) == proc.pid != os.getpgid(supervisor.pid) for proc in (web, worker, beat))
    assert postgres_processes(platform.pgdata), "the embedded PostgreSQL should be running"

    platform.process.send_signal(signal.SIGINT)
    assert platform.process.wait(timeout=STOP_TIMEOUT) == 0, platform.tail()
    assert not [proc for proc in platform.children if proc.is_running()]
    assert wait_until(lambda: not postgres_processes(platform.pgdata), timeout=5), postgres_processes(platform.pgdata)
    output = platform.output()
    assert "web server answers" in output and "Stopped web, worker and beat." in output
    print(f"cold start until the web server answered: {cold_start:.1f} s")


def test_a_child_dying_stops_the_others_and_exits_non_zero(platform: Platform):
    platform.wait_until_web_answers()
    platform.children = psutil.Process(platform.process.pid).children()
    worker = platform.child("worker")

    worker.kill()
    exit_code = platform.process.wait(timeout=STOP_TIMEOUT)
    assert exit_code != 0
    assert "worker" in platform.output() and "killed by signal 9" in platform.output()
    assert not [proc for proc in platform.children if proc.is_running()]
    assert wait_until(lambda: not postgres_processes(platform.pgdata), timeout=5), postgres_processes(platform.pgdata)
