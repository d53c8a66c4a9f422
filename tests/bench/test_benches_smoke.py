"""Every benchmark runs from scratch in a small form and ends with its JSON line, so none can rot.

The benches run in the order a person would run them, against one fresh bench database on the
suite's database server (dropped afterwards). The figures of these tiny runs mean nothing; that
each bench runs to its end and reports does. The full-size commands are in bench/README.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.embedded_db import admin_connection

pytestmark = pytest.mark.integration

BENCH = Path(settings.BASE_DIR) / "bench"
# In running order; a bench that needs another's data comes after it.
SMALL_RUNS: list[tuple[str, list[str]]] = [
    ("provisioning.py", ["--runs", "1", "--migrate-runs", "1"]),
    ("generate_forum.py", ["--scale", "0.001", "--reset"]),
    ("forum_pages.py", ["--requests", "3", "--warmup", "1"]),
    ("search.py", ["--scale", "0.001", "--queries", "5", "--rounds", "1"]),
    ("trials.py", ["--records", "40", "--queries", "3", "--warmup", "1", "--page-size", "20"]),
    ("tenants_at_scale.py", ["--tenants", "3"]),
    ("api_tokens.py", ["--requests", "3"]),
    ("stripe_webhooks.py", ["--events", "3"]),
    ("edge_guard.py", ["--runs", "2"]),
    ("moderation.py", ["--runs", "3"]),
    ("deidentify.py", ["--posts", "2000"]),
]
# Modules the benches share, not benches.
NOT_BENCHES = {"_setup.py", "forum_vocabulary.py"}


@pytest.fixture(scope="module")
def bench_env() -> Iterator[dict[str, str]]:
    name = f"kindred_bench_smoke_{uuid.uuid4().hex[:8]}"
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_VERSION"}
    env.update(
        KINDRED_BENCH_DATABASE=name,
        KINDRED_DATA_DIR=str(settings.DATA_DIR),
        PYTHONPATH=str(settings.BASE_DIR),
        PYTHONUNBUFFERED="1",
    )
    yield env
    with admin_connection(connection.settings_dict) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_bench_has_a_small_run() -> None:
    scripts = {path.name for path in BENCH.glob("*.py")} - NOT_BENCHES
    assert scripts == {script for script, _ in SMALL_RUNS}, "give each bench a small form in SMALL_RUNS"


@pytest.mark.parametrize(("script", "arguments"), SMALL_RUNS, ids=[script for script, _ in SMALL_RUNS])
def test_bench_runs_and_ends_with_its_json_line(bench_env: dict[str, str], script: str, arguments: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        cwd=settings.BASE_DIR,
        env=bench_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    last = done.stdout.strip().splitlines()[-1]
    figures = json.loads(last)
    assert isinstance(figures, dict)
    assert figures, f"{script} printed an empty JSON object"
