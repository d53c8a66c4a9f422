"""Odd but well-formed values (infinities, NaN, huge floats, empty lists) get a 4xx or a normal answer,
never a 500: the cases the edge cannot judge, left to each endpoint's own validation."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.conftest import TENANT_A, host_client

pytestmark = pytest.mark.django_db

ROOT = settings.ROOT_DOMAIN
ODD_QUERIES = [
    "lat=1e400&lon=0",
    "lat=nan&lon=nan",
    "lat=-inf&lon=inf",
    "near=1e400,1e400",
    "near=nan,nan",
    "near=91,181",
    "within=1e400&near=London",
    "within=nan&lat=1&lon=1",
    "within=-0&lat=1&lon=1",
    "condition_id=-1",
    "condition_id=0&condition_id=x",
    "status=any&phase=&study_type=",
    "unit=parsec&within=5&lat=1&lon=1",
    "q=" + "a" * 5000,
    "condition=" + "(" * 200,
]


@pytest.mark.parametrize("host", [ROOT, TENANT_A["domain"]])
@pytest.mark.parametrize("query", ODD_QUERIES)
def test_trial_search_with_odd_values_is_never_a_500(tenant_a, host, query):
    response = host_client(host).get(f"/api/v1/trials/?{query}")
    assert response.status_code in (200, 400), (query, response.status_code, response.content[:300])
    page = host_client(host).get(f"/trials/?{query}")
    assert page.status_code in (200, 400), (query, page.status_code)


@pytest.mark.parametrize("query", ["q=" + "(" * 300, "q=a:b|c&!d", "q=%27%22", "kind=zzz&tag_kind=zzz", "q="])
def test_topic_search_with_odd_values_is_never_a_500(tenant_a, query):
    response = host_client(TENANT_A["domain"]).get(f"/api/v1/search/topics/?{query}")
    assert response.status_code in (200, 400), (query, response.status_code, response.content[:300])
    assert host_client(TENANT_A["domain"]).get(f"/search/?{query}").status_code in (200, 400)
