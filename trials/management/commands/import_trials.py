"""``manage.py import_trials PATH...``: load ClinicalTrials.gov API v2 study or page files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trials.services import import_paths


class Command(BaseCommand):
    help = "Import ClinicalTrials.gov API v2 JSON: study files, page files ({'studies': [...]}) or folders of them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        paths: list[Path] = options["paths"]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}")
        report = import_paths(paths=paths, batch_size=options["batch_size"])
        for rejection in report.rejections:
            self.stderr.write(f"rejected {rejection}")
        self.stdout.write(report.summary())
