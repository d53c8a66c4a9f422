"""Rebuild the public directory from the communities of each partner tenant (repair and backfill).

It lives in ``communities``, the tenant app it reads: the public ``directory`` never imports a tenant app.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from communities.models import Community
from directory.services import CommunityListing, rebuild_directory_for_tenant
from tenants.models import Tenant
from tenants.services import for_each_tenant


def read_listings(tenant: Tenant) -> list[CommunityListing]:
    """Every community of the current tenant schema as a listing (the caller sets the schema).

    Repair and backfill only: the one place the directory is filled from tenant schemas in bulk. Day to
    day the communities service calls directory.services.publish_community / withdraw_community, and
    requests never look inside a tenant.
    """
    return [
        CommunityListing(
            slug=community.slug,
            name=community.name,
            description=community.description,
            condition_ids=[condition.pk for condition in community.conditions.all()],
            visibility=community.visibility,
            listed=community.listed_in_directory,
        )
        for community in Community.objects.prefetch_related("conditions").order_by("slug")
    ]


class Command(BaseCommand):
    help = "Rebuild the community directory from every partner tenant's communities (repair/backfill)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", dest="slugs", action="append", default=[], help="Only this tenant (slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        slugs: list[str] = options["slugs"]
        if unknown := set(slugs) - set(Tenant.objects.partners().filter(slug__in=slugs).values_list("slug", flat=True)):
            raise CommandError(f"No partner tenant with slug {', '.join(sorted(unknown))}.")

        def collect(tenant: Tenant) -> tuple[Tenant, list[CommunityListing]] | None:
            return (tenant, read_listings(tenant)) if not slugs or tenant.slug in slugs else None

        # Read inside each schema, write afterwards in public: the directory lives only in public.
        for found in for_each_tenant(collect).values():
            if found is None:
                continue
            tenant, listings = found
            entries = rebuild_directory_for_tenant(tenant=tenant, entries=listings)
            self.stdout.write(f"{tenant.slug}: {len(entries)} listed of {len(listings)} communities")
