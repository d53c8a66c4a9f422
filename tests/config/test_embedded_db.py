"""The zero-setup database starts safely when many threads ask for it at once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from django.conf import settings

pytestmark = pytest.mark.integration

# Eight threads of one fresh process ask for the server at the same moment, as a threaded Celery
# worker does when its first tasks open their connections; each then runs a query.
SCRIPT = """
import json, sys, threading
import psycopg
from config.embedded_db import embedded_database_settings

barrier = threading.Barrier(8)
results, errors = [], []

def start():
    barrier.wait()
    try:
        params = embedded_database_settings()
        with psycopg.connect(dbname=params["NAME"], user=params["USER"], host=params["HOST"],
                             port=params["PORT"]) as conn:
            conn.execute("SELECT 1").fetchone()
        results.append(params)
    except Exception as exc:
        errors.append(repr(exc))

threads = [threading.Thread(target=start) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"results": results, "errors": errors}))
"""


@pytest.fixture
def fresh_data_dir() -> Iterator[Path]:
    # Under the project's data folder, not pytest's tmp_path: the server runs as its own system
    # user, which cannot enter pytest's private (0700) temporary folders.
    path = Path(settings.DATA_DIR) / f"threads-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _servers_on(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if str(pgdata) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def test_eight_threads_start_the_embedded_server_once_and_all_connect(fresh_data_dir: Path) -> None:
    env = {"KINDRED_DATA_DIR": str(fresh_data_dir), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(settings.BASE_DIR)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == []
    assert len(outcome["results"]) == 8
    assert all(params == outcome["results"][0] for params in outcome["results"])
    # The process was the only holder: the server stopped with it.
    assert _servers_on(fresh_data_dir / "pgdata") == []
