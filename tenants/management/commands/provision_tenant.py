from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.services import provision_tenant


class Command(BaseCommand):
    help = "Create a partner tenant by cloning the template schema (idempotent: re-run to finish or confirm)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--domain", required=True, help="e.g. lupus-alliance.example.org")
        parser.add_argument("--tagline", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = provision_tenant(
                name=options["name"],
                slug=options["slug"],
                domain=options["domain"],
                tagline=options["tagline"],
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
            raise CommandError(f"Nothing was created. {problems}") from exc
        tenant = report.tenant
        if report.created:
            seconds = sum(step.seconds for step in report.steps)
            self.stdout.write(
                self.style.SUCCESS(f"Provisioned {tenant.name} ({tenant.schema_name}) in {seconds:.2f} s.")
            )
        else:
            self.stdout.write(f"{tenant.name} ({tenant.schema_name}) already exists; nothing to do.")
