"""A real Celery worker runs the beat's trial sync against a local API and emails a saved trial's change."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from communities.models import Community, Visibility
from conditions.models import Condition
from members.models import Member
from tests.celery_worker import running_worker, wait_until
from tests.conftest import COMMITTED_EMAIL_DOMAIN
from tests.trials.conftest import OWN_FIXTURES
from tests.trials.ctgov_server import FakeCtgov, serve
from trials.models import SyncRun, SyncStatus, Trial, TrialNotice
from trials.services import save_trial
from trials.tasks import sync_trials_task

pytestmark = [pytest.mark.integration, pytest.mark.worker]


def own_studies() -> list[dict]:
    studies: list[dict] = []
    for path in sorted(OWN_FIXTURES.glob("*.json")):
        payload = json.loads(path.read_text())
        studies += payload.get("studies", [payload])
    return studies


def clean_trials() -> None:
    Trial.objects.filter(nct_id__startswith="NCT9").delete()
    SyncRun.objects.all().delete()


@pytest.fixture
def api() -> Iterator[FakeCtgov]:
    with serve(FakeCtgov(studies=own_studies())) as fake:
        yield fake


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def worker(committed_db, mail_dir: Path, api: FakeCtgov) -> Iterator[subprocess.Popen]:
    clean_trials()
    try:
        with running_worker(
            EMAIL_FILE_PATH=str(mail_dir),
            CTGOV_API_URL=api.url,
            CTGOV_BACKOFF_SECONDS="0.01",
            CTGOV_PAGE_SIZE="1",  # real paging: one study per page
        ) as process:
            yield process
    finally:
        clean_trials()


@pytest.fixture
def ms_community(tenant_a) -> Iterator[Community]:
    with tenant_context(tenant_a):
        Community.objects.filter(slug="worker-trials-ms").delete()
        community = Community.objects.create(name="Worker MS", slug="worker-trials-ms", visibility=Visibility.OPEN)
        community.conditions.set([Condition.objects.get(mesh_id="D009103")])
    yield community
    with tenant_context(tenant_a):
        Community.objects.filter(slug="worker-trials-ms").delete()


def test_worker_syncs_the_communities_conditions_and_emails_a_status_change(worker, api, mail_dir, ms_community):
    sync_trials_task.delay()
    wait_until(lambda: SyncRun.objects.filter(status=SyncStatus.SUCCEEDED).exists(), worker)
    run = SyncRun.objects.get()
    assert "Multiple Sclerosis" in run.conditions
    assert set(Trial.objects.filter(nct_id__startswith="NCT9").values_list("nct_id", flat=True)) == {
        "NCT90000001", "NCT90000004",
    }  # fmt: skip
    ms_pages = [r for r in api.requests if r["query.cond"] == "Multiple Sclerosis"]
    assert [r.get("pageToken", "") for r in ms_pages] == ["", "multiple sclerosis|1"]

    member = Member.objects.create_user(
        email=f"trials-{uuid.uuid4().hex[:8]}@{COMMITTED_EMAIL_DOMAIN}", password=None, display_name="Saver"
    )
    save_trial(member=member, nct_id="NCT90000001")
    study = next(s for s in api.studies if s["protocolSection"]["identificationModule"]["nctId"] == "NCT90000001")
    status = study["protocolSection"]["statusModule"]
    status["overallStatus"] = "ACTIVE_NOT_RECRUITING"
    status["lastUpdatePostDateStruct"]["date"] = run.run_date.isoformat()

    sync_trials_task.delay()
    wait_until(lambda: SyncRun.objects.filter(status=SyncStatus.SUCCEEDED).count() == 2, worker)
    assert Trial.objects.get(nct_id="NCT90000001").overall_status == "ACTIVE_NOT_RECRUITING"
    notice = TrialNotice.objects.get(member=member)
    assert notice.message.startswith("NCT90000001 is now active, not recruiting (was recruiting)")

    def emailed() -> bool:
        return any(member.email in path.read_text() for path in mail_dir.glob("*.log"))

    wait_until(emailed, worker)
    wait_until(lambda: TrialNotice.objects.get(pk=notice.pk).emailed_at is not None, worker)
