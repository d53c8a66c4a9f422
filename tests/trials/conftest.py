from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED_DATA

OWN_FIXTURES = ROOT / "trials" / "fixtures"
BAD_FIXTURES = Path(__file__).resolve().parent / "fixtures"
CTGOV = SHARED_DATA / "ctgov"


@pytest.fixture
def ctgov_dir() -> Path:
    if not CTGOV.is_dir():
        pytest.skip(f"shared ClinicalTrials.gov records not present at {CTGOV} (CI has them)")
    return CTGOV
