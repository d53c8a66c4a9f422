"""The data-sharing purpose a member agrees to names everything a research release carries."""

from __future__ import annotations

import pytest

from consent.models import ConsentPurpose
from research.services import RESEARCH_PURPOSE

pytestmark = pytest.mark.django_db


def test_the_data_sharing_purpose_names_what_a_release_carries():
    description = ConsentPurpose.objects.get(code=RESEARCH_PURPOSE).description
    # members.csv columns and the scrubbed posts.csv of research/exporters.py
    for shared in ("age band", "sex", "region", "role", "conditions", "posts"):
        assert shared in description
    assert "without your name, email or posts" not in description
