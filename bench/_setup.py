"""Shared set-up for the benchmarks: Django on a dedicated bench database, and tenant clean-up.

The benchmarks create and drop hundreds of schemas, so they never touch the development
database: they run in their own database (``kindred_bench``, or ``KINDRED_BENCH_DATABASE``) on
the same server (the embedded one under ``KINDRED_DATA_DIR``, or ``DATABASE_URL``).
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = os.environ.get("KINDRED_BENCH_DATABASE", "kindred_bench")


def setup_django() -> None:
    """Point the settings at the bench database, create it if needed, then ``django.setup()``."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # Read by config/settings.py; also inherited by the subprocesses the benchmarks start.
    os.environ["KINDRED_DATABASE_NAME"] = BENCH_DATABASE
    # One INFO line per provisioned tenant would drown the report at 1000 tenants.
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    from django.conf import settings

    _ensure_database(settings.DATABASES["default"])

    import django

    django.setup()


def _ensure_database(params: dict[str, Any]) -> None:
    from config.embedded_db import ensure_database

    if ensure_database(params):
        print(f"created bench database {params['NAME']}")


def drop_tenants(slugs: Iterable[str], *, progress_every: int = 0) -> int:
    """Drop the tenants with these slugs: their schemas, then their rows (domains, theme...)."""
    from django.db import connection

    from tenants.models import Tenant, TenantKind

    connection.set_schema_to_public()
    tenants = list(Tenant.objects.filter(slug__in=list(slugs), kind=TenantKind.PARTNER).order_by("slug"))
    started = time.perf_counter()
    for idx, tenant in enumerate(tenants, start=1):
        # One schema per statement (autocommit): dropping hundreds of schemas in one
        # transaction would need a lock per table and run out of lock slots.
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {connection.ops.quote_name(tenant.schema_name)} CASCADE")
        if progress_every and idx % progress_every == 0:
            print(f"  dropped {idx}/{len(tenants)} schemas ({time.perf_counter() - started:.0f} s)", flush=True)
    Tenant.objects.filter(pk__in=[t.pk for t in tenants]).delete()
    return len(tenants)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, in MB (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children
