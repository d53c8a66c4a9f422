from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from demo.services import DEFAULT_PASSWORD, DemoSummary, seed_demo

# Loggers that narrate every page save and background task at INFO: useful in a server log, noise
# between a person and the summary they are waiting for.
CHATTY_LOGGERS = ("wagtail", "django_tasks", "kombu")


@contextlib.contextmanager
def quiet_content_logs() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in CHATTY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def seed_demo_or_fail(*, password: str) -> DemoSummary:
    """``seed_demo`` with its domain errors turned into a one-line CommandError."""
    try:
        with quiet_content_logs():
            return seed_demo(password=password)
    except DomainError as exc:
        details = "; ".join(" ".join(errors) for errors in exc.details.values())
        raise CommandError(f"{exc.message} {details}".strip()) from exc
    except ValidationError as exc:
        raise CommandError(f"Nothing was created: {' '.join(exc.messages)}") from exc


class Command(BaseCommand):
    help = "Create the demo partners, communities, pages and logins (idempotent; assumes `bootstrap` ran)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of every demo login")
        parser.add_argument("--port", default=settings.SITE_PORT or "8000", help="port shown in the URLs")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = seed_demo_or_fail(password=options["password"])
        created = ", ".join(f"{count} {kind}" for kind, count in summary.created.items() if count)
        self.stdout.write(self.style.SUCCESS(f"Demo ready ({created or 'already complete, nothing to add'})."))
        for line in summary.as_lines(port=options["port"]):
            self.stdout.write(line)
