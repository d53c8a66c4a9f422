"""Consent fixtures: the three seeded purposes and a published first policy version."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from consent.models import ConsentPolicy, ConsentPurpose

RESEARCH = "research-data-sharing"
CONTACT = "research-contact"
NEWSLETTERS = "partner-newsletters"
SEEDED = [RESEARCH, CONTACT, NEWSLETTERS]


@pytest.fixture
def purposes(db: None) -> dict[str, ConsentPurpose]:
    return {p.code: p for p in ConsentPurpose.objects.filter(code__in=SEEDED)}


@pytest.fixture
def policy_v1(purposes: dict[str, ConsentPurpose]) -> ConsentPolicy:
    from consent.services import publish_policy

    return publish_policy(
        text_markdown="## Version one\n\nWe ask before sharing anything.",
        effective_at=timezone.now() - datetime.timedelta(days=30),
        change_summary="First version.",
        purposes=list(purposes.values()),
    )


def publish_next(
    purposes: dict[str, Any],
    *,
    material: tuple[str, ...] | list[str] = (),
    effective_at: datetime.datetime | None = None,
) -> ConsentPolicy:
    from consent.services import publish_policy

    return publish_policy(
        text_markdown="## A newer version",
        effective_at=effective_at or timezone.now() - datetime.timedelta(minutes=1),
        change_summary=f"Changed: {', '.join(material) or 'wording only'}.",
        purposes=list(purposes.values()),
        material_changes=[purposes[code] for code in material],
    )
