"""Write the de-identified research dataset (members consenting to data sharing only) as JSON.

The consent purpose is fixed in code (de-identified data sharing). ``--staff`` names the research staff
member who pulls it (they need the research permission); the pull is audited like an API pull.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from core.errors import DomainError
from research.exporters import exporter
from research.services import pull_dataset


class Command(BaseCommand):
    help = "Export a de-identified research dataset of members who consent to data sharing (named staff only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--staff", required=True, help="Email of the named research staff member pulling it")
        parser.add_argument("--export", default="deidentified-members", help="Registered exporter name")
        parser.add_argument("--at", default="", help="ISO date-time the consent is judged at (default: now)")
        parser.add_argument("--output", default="-", help="File to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        at = None
        if options["at"]:
            at = parse_datetime(options["at"])
            if at is None or at.tzinfo is None:
                raise CommandError("--at needs an ISO date-time with a time zone, e.g. 2026-01-01T00:00:00+00:00")
        staff = get_user_model().objects.filter(email__iexact=options["staff"]).first()
        if staff is None:
            raise CommandError(f"No account {options['staff']}.")
        try:
            rows = pull_dataset(actor=staff, channel="command", exporter_fn=exporter(options["export"]), at=at)
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from exc
        text = json.dumps(rows, indent=2)
        if options["output"] == "-":
            self.stdout.write(text)
        else:
            Path(options["output"]).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"{len(rows)} rows written to {options['output']}")
