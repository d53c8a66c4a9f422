"""Tenant provisioning: cloning the template schema vs django-tenants' default (migrate an empty schema).

    .venv/bin/python bench/provisioning.py [--runs 5] [--migrate-runs 2]

Runs in the bench database (see bench/_setup.py), bootstraps the platform, provisions ``--runs``
tenants by cloning and ``--migrate-runs`` by migrating, prints a table and, as its last line,
``{"clone_s": ..., "migrate_s": ..., "ratio": ...}`` (medians, seconds). Every tenant it creates
is dropped again at the end, so it can be re-run.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import drop_tenants, median, setup_django

SLUG_PREFIX = "bench-prov-"
TARGET_RATIO = 10.0
TARGET_CLONE_S = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="tenants provisioned by cloning (default 5)")
    parser.add_argument("--migrate-runs", type=int, default=2, help="tenants provisioned by migrating (default 2)")
    args = parser.parse_args()

    setup_django()
    from tenants.models import Tenant
    from tenants.services import bootstrap_platform, provision_tenant, provision_tenant_by_migrating

    started = time.perf_counter()
    bootstrap_platform()
    print(f"bootstrap_platform: {time.perf_counter() - started:.1f} s")
    # Tenants left by an interrupted earlier run.
    leftovers = list(Tenant.objects.filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True))
    if leftovers:
        print(f"dropping {drop_tenants(leftovers)} tenants left by an earlier run")

    run_id = secrets.token_hex(3)
    rows: list[tuple[str, str, float, str]] = []
    created: list[str] = []
    try:
        for idx in range(args.runs):
            slug = f"{SLUG_PREFIX}{run_id}-c{idx}"
            created.append(slug)
            t0 = time.perf_counter()
            report = provision_tenant(name=f"Bench clone {idx}", slug=slug, domain=f"{slug}.localhost")
            took = time.perf_counter() - t0
            clone_step = next((s.seconds for s in report.steps if s.name == "clone template schema"), 0.0)
            rows.append(("clone", slug, took, f"clone_schema() {clone_step:.2f} s"))
            print(f"  clone    {slug}: {took:.2f} s", flush=True)
        for idx in range(args.migrate_runs):
            slug = f"{SLUG_PREFIX}{run_id}-m{idx}"
            created.append(slug)
            t0 = time.perf_counter()
            provision_tenant_by_migrating(name=f"Bench migrate {idx}", slug=slug, domain=f"{slug}.localhost")
            took = time.perf_counter() - t0
            rows.append(("migrate", slug, took, ""))
            print(f"  migrate  {slug}: {took:.2f} s", flush=True)
    finally:
        dropped = drop_tenants(created)
        print(f"cleaned up: dropped {dropped} bench tenants")

    clone_s = median([took for kind, _, took, _ in rows if kind == "clone"])
    migrate_s = median([took for kind, _, took, _ in rows if kind == "migrate"])
    ratio = migrate_s / clone_s if clone_s else float("nan")

    print()
    print("Tenant provisioning (seconds per tenant, wall clock)")
    print(f"{'method':<9} {'slug':<28} {'seconds':>8}  note")
    for kind, slug, took, note in rows:
        print(f"{kind:<9} {slug:<28} {took:>8.2f}  {note}")
    print()
    print(f"median clone_s   {clone_s:8.2f}   target < {TARGET_CLONE_S:.0f} s: {_verdict(clone_s < TARGET_CLONE_S)}")
    print(f"median migrate_s {migrate_s:8.2f}   (baseline: django-tenants' default, every migration)")
    print(f"ratio            {ratio:8.1f}x  target >= {TARGET_RATIO:.0f}x: {_verdict(ratio >= TARGET_RATIO)}")
    print(json.dumps({"clone_s": round(clone_s, 3), "migrate_s": round(migrate_s, 3), "ratio": round(ratio, 1)}))


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    main()
