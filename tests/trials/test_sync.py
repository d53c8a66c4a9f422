"""The ClinicalTrials.gov sync against a local HTTP server: paging, watermark, retries, crash and resume."""

from __future__ import annotations

import json
import time

import pytest
from django.utils import timezone

from tests.trials.conftest import OWN_FIXTURES
from tests.trials.ctgov_server import FakeCtgov, serve
from trials.models import SyncRun, SyncStatus, Trial
from trials.sync import SyncFailed, run_sync

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.CTGOV_BACKOFF_SECONDS = 0.01
    settings.CTGOV_MAX_BACKOFF_SECONDS = 2
    settings.CTGOV_HTTP_TIMEOUT = 0.5
    settings.CTGOV_MAX_RETRIES = 3
    settings.CTGOV_PAGE_SIZE = 10


def shared_studies(ctgov_dir) -> list[dict]:
    studies = []
    for path in sorted(ctgov_dir.glob("*.json")):
        payload = json.loads(path.read_text())
        studies += payload.get("studies", [payload])
    return studies


def own_studies() -> list[dict]:
    studies = []
    for path in sorted(OWN_FIXTURES.glob("*.json")):
        payload = json.loads(path.read_text())
        studies += payload.get("studies", [payload])
    return studies


def nct(study):
    return study["protocolSection"]["identificationModule"]["nctId"]


def matching(studies, condition):
    from tests.trials.ctgov_server import study_text

    return {nct(s) for s in studies if condition in study_text(s)}


def test_full_then_incremental_sync_over_the_shared_records(ctgov_dir):
    studies = shared_studies(ctgov_dir)
    wanted = matching(studies, "diabetes") | matching(studies, "asthma")
    assert len(matching(studies, "diabetes")) > 20  # several pages of 10
    with serve(FakeCtgov(studies=studies)) as api:
        run = run_sync(conditions=["diabetes", "asthma"], base_url=api.url)
        assert (run.status, run.since, run.run_date) == (SyncStatus.SUCCEEDED, None, timezone.localdate())
        assert set(Trial.objects.values_list("nct_id", flat=True)) == wanted
        assert (run.created, run.updated, run.rejected) == (len(wanted), 0, 0)
        diabetes_pages = -(-len(matching(studies, "diabetes")) // 10)
        asthma_pages = -(-len(matching(studies, "asthma")) // 10)
        assert run.pages == diabetes_pages + asthma_pages == len(api.requests)
        # Real pagination: the same parameters on every page, the token of the page before.
        assert [r.get("pageToken", "") for r in api.requests[:3]] == ["", "diabetes|10", "diabetes|20"]
        assert all("filter.advanced" not in r for r in api.requests)  # first run: everything
        assert {r["pageSize"] for r in api.requests} == {"10"}

        # A study changes upstream today: the next run asks only for what changed since the watermark.
        changed = next(s for s in studies if nct(s) == "NCT03658512")
        changed["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
        changed["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = (
            timezone.localdate().isoformat()
        )
        api.requests.clear()
        second = run_sync(conditions=["diabetes", "asthma"], base_url=api.url)
    today = timezone.localdate().isoformat()
    assert {r["filter.advanced"] for r in api.requests} == {f"AREA[LastUpdatePostDate]RANGE[{today},MAX]"}
    assert (second.status, second.since, second.created, second.updated, second.unchanged) == (
        SyncStatus.SUCCEEDED, timezone.localdate(), 0, 1, 0,
    )  # fmt: skip
    assert Trial.objects.get(nct_id="NCT03658512").overall_status == "COMPLETED"
    assert Trial.objects.count() == len(wanted)


def test_rate_limits_server_errors_and_timeouts_are_retried(settings):
    studies = own_studies()
    fake = FakeCtgov(studies=studies, retry_after="1", faults={("sclerosis", 0): ["429", "500", "timeout", "503"]})
    settings.CTGOV_MAX_RETRIES = 4
    with serve(fake) as api:
        started = time.monotonic()
        run = run_sync(conditions=["sclerosis"], base_url=api.url)
        elapsed = time.monotonic() - started
    assert run.status == SyncStatus.SUCCEEDED
    assert run.retries == 4
    assert len(api.requests) == 5
    assert elapsed >= 1.0 + 0.5  # honoured Retry-After: 1, and waited out the 0.5 s timeout
    assert set(Trial.objects.values_list("nct_id", flat=True)) == {"NCT90000001", "NCT90000004"}


def test_giving_up_keeps_the_checkpoint_and_a_rerun_resumes_without_duplicates(ctgov_dir):
    studies = shared_studies(ctgov_dir)
    diabetes = sorted(matching(studies, "diabetes"))
    # The third page of diabetes keeps failing (a truncated body each time): the run "crashes" there.
    fake = FakeCtgov(studies=studies, faults={("diabetes", 20): ["truncated"] * 4})
    with serve(fake) as api:
        with pytest.raises(SyncFailed, match="Gave up after 3 retries: unreadable response"):
            run_sync(conditions=["asthma", "diabetes"], base_url=api.url)
        failed = SyncRun.objects.get()
        assert (failed.status, failed.condition_index, failed.page_token) == (SyncStatus.FAILED, 1, "diabetes|20")
        asthma = matching(studies, "asthma")
        assert set(Trial.objects.values_list("nct_id", flat=True)) == asthma | set(diabetes[:20])
        assert not SyncRun.objects.filter(status=SyncStatus.SUCCEEDED).exists()  # the watermark did not move

        api.requests.clear()
        resumed = run_sync(conditions=["asthma", "diabetes"], base_url=api.url)
    assert resumed.pk == failed.pk
    assert (resumed.status, resumed.attempts, resumed.since) == (SyncStatus.SUCCEEDED, 2, None)
    assert api.requests[0].get("pageToken") == "diabetes|20"  # straight back to where it stopped
    assert all(r["query.cond"] == "diabetes" for r in api.requests)
    assert Trial.objects.count() == len(asthma | set(diabetes))
    assert resumed.created == len(asthma | set(diabetes))


def test_other_client_errors_fail_at_once():
    fake = FakeCtgov(studies=own_studies(), faults={("sclerosis", 0): ["404"]})
    with serve(fake) as api, pytest.raises(SyncFailed, match="HTTP 404"):
        run_sync(conditions=["sclerosis"], base_url=api.url)
    assert len(api.requests) == 1
    assert Trial.objects.count() == 0
    assert SyncRun.objects.get().status == SyncStatus.FAILED


def test_malformed_studies_in_a_page_are_rejected_the_rest_imported():
    bad = {
        "protocolSection": {
            "identificationModule": {"nctId": 5, "briefTitle": "Numeric id"},
            "statusModule": {"lastUpdatePostDateStruct": {"date": "2025-01-01"}},
            "conditionsModule": {"conditions": ["Lupus nephritis"]},
        }
    }
    with serve(FakeCtgov(studies=[*own_studies(), bad])) as api:
        run = run_sync(conditions=["lupus"], base_url=api.url)
    assert (run.status, run.created, run.unchanged, run.rejected) == (SyncStatus.SUCCEEDED, 1, 0, 1)
    assert list(Trial.objects.values_list("nct_id", flat=True)) == ["NCT90000005"]


def test_a_condition_new_to_the_sync_gets_its_whole_history():
    with serve(FakeCtgov(studies=own_studies())) as api:
        first = run_sync(conditions=["sclerosis"], base_url=api.url)
        api.requests.clear()
        second = run_sync(conditions=["sclerosis", "lupus"], base_url=api.url)
    today = timezone.localdate().isoformat()
    assert second.condition_since == {"sclerosis": first.run_date.isoformat(), "lupus": None}
    by_condition = {r["query.cond"]: r.get("filter.advanced") for r in api.requests}
    assert by_condition == {"sclerosis": f"AREA[LastUpdatePostDate]RANGE[{today},MAX]", "lupus": None}
    assert second.created == 1  # the lupus registry, older than the watermark
