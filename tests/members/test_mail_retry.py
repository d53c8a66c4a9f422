"""An email task that fails on a mail-server hiccup retries instead of losing the email."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from config.celery import app as celery_app
from members.tasks import send_verification_email
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


class FlakyMailServer(LocmemBackend):
    """Stands in for the outside mail server (the one part that can't run here): it refuses the
    first connections, as a restarting SMTP relay does, then accepts mail."""

    refusals_left: ClassVar[int] = 0

    def send_messages(self, email_messages: Any) -> int:
        if FlakyMailServer.refusals_left > 0:
            FlakyMailServer.refusals_left -= 1
            raise ConnectionRefusedError("mail server unavailable")
        return super().send_messages(email_messages)


@pytest.fixture
def flaky_mail(settings: Any) -> Iterator[type[FlakyMailServer]]:
    settings.EMAIL_BACKEND = f"{__name__}.FlakyMailServer"
    mail.outbox = []
    # The suite's eager mode re-raises a task's exceptions; here the task's own retry must
    # handle them, as it does on a worker.
    celery_app.conf.task_eager_propagates = False
    try:
        yield FlakyMailServer
    finally:
        celery_app.conf.task_eager_propagates = True


def test_verification_email_is_sent_after_the_mail_server_refused_twice(flaky_mail: type[FlakyMailServer]) -> None:
    member = MemberFactory.create(email_verified_at=None)
    flaky_mail.refusals_left = 2

    result = send_verification_email.apply(args=(member.pk,))

    assert result.successful()
    assert result.get() is True
    assert flaky_mail.refusals_left == 0
    assert [message.to for message in mail.outbox] == [[member.email]]


def test_a_mail_server_that_never_answers_fails_the_task_after_its_retries(
    flaky_mail: type[FlakyMailServer],
) -> None:
    member = MemberFactory.create(email_verified_at=None)
    flaky_mail.refusals_left = 100

    result = send_verification_email.apply(args=(member.pk,))

    assert result.failed()
    assert isinstance(result.result, ConnectionRefusedError)
    assert flaky_mail.refusals_left == 100 - 13  # the first attempt and twelve retries
    assert mail.outbox == []
