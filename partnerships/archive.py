"""The archive a partner receives when its agreement ends: its own pages and aggregate statistics.

Never member data: pages are the partner's CMS content with owner and lock fields removed; statistics
are counts, and any count below ``SMALL_COUNT`` is reported as "<5" so a small cell names nobody.
Apps with statistics register a provider here (partnerships knows no tenant app).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from wagtail.models import Page

from members.models import TenantMembership
from tenants.models import Tenant

SMALL_COUNT = 5
StatisticsProvider = Callable[[], dict[str, Any]]
_providers: list[StatisticsProvider] = []
# Keys of a page revision that point at people (authors, lockers) or at internal rows.
_PERSONAL_PAGE_KEYS = {"owner", "locked_by", "locked_at", "locked", "latest_revision", "live_revision",
                       "latest_revision_created_at", "content_type", "draft_title", "path", "depth", "numchild",
                       "translation_key", "locale", "expert_member"}  # fmt: skip


def register_statistics(provider: StatisticsProvider) -> None:
    """A tenant app adds its aggregate counts (run inside the tenant's schema).

    A provider returns raw numbers: totals of things at the top level ({"communities": 3}) and
    breakdowns of people's activity as dicts of counts ({"posts_per_month": {"2026-11": 2}}). The
    archive, not the provider, reports every count in a breakdown below the threshold as "<5"."""
    if provider not in _providers:
        _providers.append(provider)


def small_cell(count: int) -> int | str:
    return f"<{SMALL_COUNT}" if 0 < count < SMALL_COUNT else count


def _pages() -> list[dict[str, Any]]:
    pages = []
    for page in Page.objects.live().filter(depth__gt=1).specific().order_by("path"):
        revision = page.get_latest_revision()
        content = dict(revision.content) if revision is not None else {}
        pages.append(
            {
                "title": page.title,
                "url_path": page.url_path,
                "type": page.specific_class.__name__ if page.specific_class else "Page",
                "first_published_at": page.first_published_at.isoformat() if page.first_published_at else None,
                "content": {k: v for k, v in content.items() if k not in _PERSONAL_PAGE_KEYS},
            }
        )
    return pages


def _statistics(tenant: Tenant) -> dict[str, Any]:
    stats: dict[str, Any] = {"members": small_cell(TenantMembership.objects.filter(tenant=tenant).count())}
    for provider in _providers:
        for key, value in provider().items():
            stats[key] = {k: small_cell(v) for k, v in value.items()} if isinstance(value, dict) else value
    return stats


def build_archive(*, archive_name: str, tenants: list[Tenant]) -> Path:
    folder = Path(settings.KINDRED_EXPORTS_DIR) / "partner-archives"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{archive_name}.zip"
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            "Your communities' own pages and aggregate statistics, as of "
            f"{timezone.now():%Y-%m-%d %H:%M} UTC.\nNo member data is included: counts below {SMALL_COUNT} "
            f'read "<{SMALL_COUNT}".\n',
        )
        for tenant in tenants:
            with tenant_context(tenant):
                pages = _pages()
                stats = _statistics(tenant)
            archive.writestr(f"{tenant.slug}/pages.json", json.dumps(pages, indent=2, default=str))
            archive.writestr(f"{tenant.slug}/statistics.json", json.dumps(stats, indent=2, default=str))
    partial.replace(path)  # a half-written archive is never mistaken for a finished one
    return path
