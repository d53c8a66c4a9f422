from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from tenants.services import bootstrap_platform


class Command(BaseCommand):
    help = "Migrate public, the template schema and every tenant; create the platform tenant (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        bootstrap_platform(verbosity=max(0, int(options["verbosity"]) - 1))
        self.stdout.write(self.style.SUCCESS(f"Platform ready ({time.monotonic() - started:.1f} s)."))
