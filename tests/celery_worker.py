"""A real Celery worker for integration tests: started on the test database and broker, its log
followed until it says it is ready, stopped (then killed if need be) when the test ends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from config.celery import app
from tests.conftest import ROOT


@contextmanager
def running_worker(**extra_env: str) -> Iterator[subprocess.Popen[str]]:
    """The worker process; its output lines are in ``process.log``."""
    app.conf.task_always_eager = False
    app.control.purge()
    env = {**os.environ, "KINDRED_DATABASE_NAME": settings.DATABASES["default"]["NAME"], **extra_env}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    ready = threading.Event()
    log: list[str] = []

    def follow() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=follow, daemon=True).start()
    try:
        assert ready.wait(90), "worker did not start:\n" + "".join(log)
        process.log = log  # type: ignore[attr-defined]
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        app.conf.task_always_eager = True


def wait_until(predicate: Callable[[], Any], worker: Any, timeout: float = 60) -> Any:
    """Poll until ``predicate()`` is truthy (and return it); on timeout fail with the worker's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s:\n" + "".join(getattr(worker, "log", [])))
