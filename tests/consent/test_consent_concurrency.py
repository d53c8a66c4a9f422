"""Concurrent first decisions of one member share one pseudonymous subject (real commits)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from consent import services
from consent.models import ConsentPurpose, ConsentRecord, ConsentSubject
from tests.conftest import COMMITTED_EMAIL_DOMAIN
from tests.factories import MemberFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def committed_consent(committed_db: None) -> Iterator[list[Any]]:
    """Committed policies and ledger rows are removed afterwards (the owner lifts the trigger for it)."""
    members: list[Any] = []
    yield members
    for member in members:
        services.detach_member(member=member)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE public.consent_consentrecord DISABLE TRIGGER USER")
        try:
            for table in ("consentrecord", "consentsubject", "policypurpose", "consentpolicy"):
                cursor.execute(f"DELETE FROM public.consent_{table}")
        finally:
            cursor.execute("ALTER TABLE public.consent_consentrecord ENABLE TRIGGER USER")


def test_a_racing_first_decision_reuses_the_subject_the_other_request_created(committed_consent):
    services.publish_policy(
        text_markdown="v1",
        effective_at=timezone.now(),
        change_summary="",
        purposes=list(ConsentPurpose.objects.filter(active=True)),
    )
    member = MemberFactory(email=f"race-{time.time_ns()}@{COMMITTED_EMAIL_DOMAIN}")
    committed_consent.append(member)
    created = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                services.ensure_subject(member=member)
                created.set()
                time.sleep(0.5)  # the other request now blocks on the unique member_id
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            created.set()
            connections.close_all()

    def second() -> None:
        try:
            created.wait(5)
            services.record_consent(member=member, purpose="research-contact", granted=True, channel="web")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    subjects = list(ConsentSubject.objects.filter(member=member))
    assert len(subjects) == 1
    assert list(ConsentRecord.objects.filter(subject__member=member).values_list("subject_id", "decision")) == [
        (subjects[0].pk, "granted")
    ]
