"""``manage.py sync_trials``: run (or resume) the ClinicalTrials.gov sync now, as the beat task does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from trials.sync import run_sync


class Command(BaseCommand):
    help = "Fetch studies updated since the last successful sync for the conditions communities cover."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--condition", action="append", dest="conditions", help="ask for this condition instead (repeatable)"
        )
        parser.add_argument("--url", default=None, help="API URL (default: settings.CTGOV_API_URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = run_sync(conditions=options["conditions"], base_url=options["url"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"sync {run.pk} {run.status}: {run.pages} pages, new: {run.created}, updated: {run.updated}, "
            f"unchanged: {run.unchanged}, rejected: {run.rejected}, retries: {run.retries}"
        )
