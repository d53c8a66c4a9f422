from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import get_public_schema_name, schema_context

from conditions.services import TAXONOMY_PATH, load_condition_taxonomy


class Command(BaseCommand):
    help = "Load or refresh the condition taxonomy from conditions/taxonomy.json (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", type=Path, default=None, help=f"taxonomy file (default: {TAXONOMY_PATH})")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # The taxonomy is shared by every tenant, so it lives in the public schema only.
            with schema_context(get_public_schema_name()):
                result = load_condition_taxonomy(path=options["path"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Conditions: {result.created} created, {result.updated} updated, {result.unchanged} unchanged."
            )
        )
