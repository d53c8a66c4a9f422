"""The world most communities tests start from.

One members-only community of ``tenant_a`` with the people around it (tests.factories.community_world:
``admin``, ``moderator``, ``alice``, ``bob``, ``carol``, ``stranger``), a posting rate that never gets
in the way, and the test running inside the tenant's schema. A module shapes it by overriding
``world_fields`` (the community's fields) or ``posting_rate``, and adds to it with a fixture of the
same name that asks for this one::

    @pytest.fixture
    def world(world):
        world.topic = start_topic(world, title="Sleep and steroids", body="How do you sleep?")
        return world

Web and API tests that read pages through the client end their fixture with ``use_public_schema()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from tests.factories import community_world

GENEROUS_POSTING_RATE = "1000/1m"


@pytest.fixture
def posting_rate() -> str:
    return GENEROUS_POSTING_RATE


@pytest.fixture
def world_fields() -> dict[str, Any]:
    return {}


@pytest.fixture
def world(tenant_a: Any, settings: Any, posting_rate: str, world_fields: dict[str, Any]) -> Iterator[SimpleNamespace]:
    settings.KINDRED_POSTING_RATE = posting_rate
    with tenant_context(tenant_a):
        yield community_world(tenant=tenant_a, **world_fields)
