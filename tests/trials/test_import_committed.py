"""Outside a transaction (the command, the demo) the importer writes each batch on a writer thread
while it parses the next: the result must be exactly that of the one-connection path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, transaction

from tests.trials.conftest import OWN_FIXTURES
from trials.models import SyncRun, Trial, TrialCondition, TrialSite
from trials.services import import_paths

pytestmark = pytest.mark.integration


def _rows() -> list[list[tuple]]:
    trials = list(Trial.objects.order_by("nct_id").values_list("nct_id", "brief_title", "overall_status", "raw_json"))
    sites = list(TrialSite.objects.order_by("trial__nct_id", "position").values_list("trial__nct_id", "city", "lat"))
    links = sorted(TrialCondition.objects.values_list("trial__nct_id", "condition_id", "direct"))
    return [trials, sites, links]


@pytest.fixture
def own_trials_cleared(committed_db: None) -> Iterator[None]:
    def clear() -> None:
        Trial.objects.filter(nct_id__startswith="NCT9").delete()
        SyncRun.objects.all().delete()

    clear()
    yield
    clear()


def test_pipelined_import_writes_what_the_sequential_one_writes(own_trials_cleared):
    assert not connection.in_atomic_block  # the writer-thread path
    report = import_paths(paths=[OWN_FIXTURES], batch_size=2)  # three batches: the writer really overlaps
    assert report.as_dict() == {"new": 5, "updated": 0, "unchanged": 0, "rejected": 1}
    pipelined = _rows()
    assert len(pipelined[0]) == 5 and pipelined[1] and pipelined[2]

    # The same files through the one-connection path (inside a transaction), into emptied tables.
    Trial.objects.filter(nct_id__startswith="NCT9").delete()
    with transaction.atomic():
        sequential_report = import_paths(paths=[OWN_FIXTURES], batch_size=2)
    assert sequential_report.as_dict() == report.as_dict()
    assert _rows() == pipelined

    # And again pipelined: nothing changes.
    again = import_paths(paths=[OWN_FIXTURES], batch_size=2)
    assert again.as_dict() == {"new": 0, "updated": 0, "unchanged": 5, "rejected": 1}
    assert _rows() == pipelined
