"""Pull the quick de-identified dataset under one research agreement and write it as JSON.

It goes through the release machinery: members whose consent to de-identified data sharing is granted
NOW (and, with ``--at``, also then), k-anonymous, under the agreement's pseudonyms; who was included is
recorded (members see it on their privacy page). ``--staff`` names the person pulling it: named research
staff who is also one of the agreement's named recipients. The pull is audited like an API pull.
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
from research.models import DEFAULT_K
from research.services import pull_dataset


class Command(BaseCommand):
    help = "Pull a de-identified, k-anonymous dataset of members consenting now to data sharing, under one agreement."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--staff", required=True, help="Email of the named staff member (an agreement recipient)")
        parser.add_argument("--agreement", required=True, help="Public id (UUID) of the research agreement")
        parser.add_argument("--export", default="deidentified-members", help="Registered exporter name")
        parser.add_argument(
            "--at", default="", help="Also require consent at this past ISO date-time (consent is always judged now)"
        )
        parser.add_argument("--k", type=int, default=DEFAULT_K, help=f"k-anonymity (default {DEFAULT_K})")
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
            export, rows = pull_dataset(
                actor=staff,
                channel="command",
                agreement_id=options["agreement"],
                exporter_fn=exporter(options["export"]),
                at=at,
                k=options["k"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from exc
        result = {
            "release": str(export.public_id),
            "agreement": str(export.agreement.public_id),
            "k": export.k,
            "consent_judged_at": export.consent_at.isoformat() if export.consent_at else None,
            "counts": export.manifest.get("counts", {}),
            "rows": rows,
        }
        text = json.dumps(result, indent=2)
        if options["output"] == "-":
            self.stdout.write(text)
        else:
            Path(options["output"]).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"{len(rows)} rows written to {options['output']} (release {export.public_id})")
