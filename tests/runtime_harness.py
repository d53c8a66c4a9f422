"""Processes the runtime tests start and always stop: a Redis of their own (so it can be stopped),
gunicorn with the production settings, a Celery worker, PgBouncer. Each listens on a free
loopback port; nothing here touches the machine's shared services."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, log: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    tail = log.read_text()[-4000:] if log is not None and log.exists() else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")


def stop(process: subprocess.Popen[Any], *, timeout: float = 20) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def start(command: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen[Any]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


class OwnRedis:
    """``redis-server`` on a free port, in memory only; ``stop()`` and ``start()`` at will."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed (Debian: apt-get install redis-server)")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = start(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            env=dict(os.environ),
            log=self.workdir / "redis.log",
        )
        wait_for(lambda: listening(self.port), timeout=20, what="redis", log=self.workdir / "redis.log")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@contextmanager
def own_redis(workdir: Path) -> Iterator[OwnRedis]:
    redis = OwnRedis(workdir)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def base_env(**extra: str) -> dict[str, str]:
    """The environment of a web or worker process of this checkout, on the suite's test database."""
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_VERSION"}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        KINDRED_DATA_DIR=str(settings.DATA_DIR),
        KINDRED_DATABASE_NAME=str(settings.DATABASES["default"]["NAME"]),
        KINDRED_DEBUG="0",
        LOG_FORMAT="plain",
    )
    env.update(extra)
    return env


class Web:
    """gunicorn with config/gunicorn.py (the production profile) on a free port."""

    def __init__(self, env: dict[str, str], workdir: Path, *, workers: int = 2) -> None:
        self.port = free_port()
        self.log = workdir / "web.log"
        env = {**env, "KINDRED_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers)}
        self.process = start(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"], env=env, log=self.log
        )

    def wait_ready(self, host: str, timeout: float = 120) -> None:
        def answers() -> bool:
            try:
                return self.request("GET", "/healthz/", host=host)[0] == 200
            except OSError:
                return False

        wait_for(answers, timeout=timeout, what="gunicorn", log=self.log)

    def request(
        self, method: str, path: str, *, host: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": host, **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body)
            sent["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=sent)
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def stop(self) -> None:
        stop(self.process)


def start_worker(
    env: dict[str, str], workdir: Path, *, name: str = "worker", beat: bool = False
) -> subprocess.Popen[Any]:
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h",
    ]  # fmt: skip
    if beat:
        command += ["--beat", f"--schedule={workdir / 'beat-schedule'}"]
    log = workdir / f"{name}.log"
    process = start(command, env=env, log=log)
    wait_for(lambda: " ready." in log.read_text(), timeout=120, what=f"{name} to start", log=log)
    return process
