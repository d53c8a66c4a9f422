"""Write the de-identified research dataset (consenting members only) as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from config.errors import DomainError
from research.exporters import exporter


class Command(BaseCommand):
    help = "Export a de-identified research dataset of members who consent (the consent gate applies)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--export", default="deidentified-members", help="Registered exporter name")
        parser.add_argument("--purpose", default="research-data-sharing", help="Consent purpose code")
        parser.add_argument("--at", default="", help="ISO date-time the consent is judged at (default: now)")
        parser.add_argument("--output", default="-", help="File to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        at = None
        if options["at"]:
            at = parse_datetime(options["at"])
            if at is None or at.tzinfo is None:
                raise CommandError("--at needs an ISO date-time with a time zone, e.g. 2026-01-01T00:00:00+00:00")
        try:
            rows = exporter(options["export"])(purpose_code=options["purpose"], at=at)
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details}") from exc
        text = json.dumps(rows, indent=2)
        if options["output"] == "-":
            self.stdout.write(text)
        else:
            Path(options["output"]).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"{len(rows)} rows written to {options['output']}")
