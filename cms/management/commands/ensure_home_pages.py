"""Give every partner tenant made before the CMS pages existed its community home and resource library."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cms.services import ensure_home_page
from tenants.models import Tenant
from tenants.services import for_each_tenant


class Command(BaseCommand):
    help = "Create the community home page and resource library in every partner tenant that lacks them."

    def handle(self, *args: Any, **options: Any) -> None:
        def one(tenant: Tenant) -> str:
            return ensure_home_page(tenant=tenant).title

        for schema, title in for_each_tenant(one).items():
            self.stdout.write(f"{schema}: home page “{title}”")
