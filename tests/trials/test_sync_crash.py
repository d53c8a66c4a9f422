"""A sync process killed halfway (SIGKILL) leaves its checkpoint; the next run resumes without duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.trials.ctgov_server import FakeCtgov, serve, study_text
from trials.models import SyncRun, SyncStatus, Trial
from trials.sync import SyncBusy, run_sync

pytestmark = [pytest.mark.integration]


@pytest.fixture
def clean(committed_db, ctgov_dir):
    Trial.objects.all().delete()
    SyncRun.objects.all().delete()
    yield
    Trial.objects.all().delete()
    SyncRun.objects.all().delete()


def test_killed_sync_resumes_from_its_checkpoint(clean, ctgov_dir, settings):
    settings.CTGOV_PAGE_SIZE = 10
    studies = []
    for path in sorted(ctgov_dir.glob("*.json")):
        payload = json.loads(path.read_text())
        studies += payload.get("studies", [payload])
    fake = FakeCtgov(studies=studies, faults={("diabetes", 20): ["hang"]})
    with serve(fake) as api:
        env = {
            **os.environ,
            "KINDRED_DATABASE_NAME": settings.DATABASES["default"]["NAME"],
            "CTGOV_API_URL": api.url,
            "CTGOV_PAGE_SIZE": "10",
            "CTGOV_HTTP_TIMEOUT": "120",
        }
        process = subprocess.Popen(
            [sys.executable, "manage.py", "sync_trials", "--condition", "diabetes"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                run = SyncRun.objects.first()
                if run is not None and run.pages == 2 and len(api.requests) == 3:
                    break  # two pages committed, the third request hanging
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                time.sleep(0.1)
            else:
                raise AssertionError("the sync never reached its third page")
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
        crashed = SyncRun.objects.get()
        assert (crashed.status, crashed.pages, crashed.page_token) == (SyncStatus.RUNNING, 2, "diabetes|20")
        assert Trial.objects.count() == 20

        api.requests.clear()
        deadline = time.monotonic() + 30
        while True:  # the killed session's advisory lock goes when PostgreSQL notices the dead client
            try:
                resumed = run_sync(conditions=["diabetes"], base_url=api.url)
                break
            except SyncBusy:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    diabetes = {s["protocolSection"]["identificationModule"]["nctId"] for s in studies if "diabetes" in study_text(s)}
    assert resumed.pk == crashed.pk
    assert (resumed.status, resumed.attempts) == (SyncStatus.SUCCEEDED, 2)
    assert api.requests[0]["pageToken"] == "diabetes|20"
    assert sorted(Trial.objects.values_list("nct_id", flat=True)) == sorted(diabetes)  # each once
    assert resumed.created == len(diabetes)
