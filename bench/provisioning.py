"""Tenant provisioning: cloning the template schema vs django-tenants' default (migrate an empty schema).

    .venv/bin/python bench/provisioning.py [--runs 5] [--migrate-runs 2]

Runs in the bench database (see bench/_setup.py), bootstraps the platform, provisions ``--runs``
tenants by cloning and ``--migrate-runs`` by migrating, prints a table and, as its last line,
``{"clone_s": ..., "migrate_s": ..., "ratio": ..., ...}`` (medians, seconds). Every tenant it creates
is dropped again at the end, so it can be re-run.

The clone step alone is also timed both ways inside a rolled-back transaction: the cached DDL plan
of tenants/cloning.py (``plan_clone_step_s``, and ``plan_read_s``, reading the template's catalog
once) against django-tenants' ``clone_schema()`` SQL function (``legacy_clone_step_s``, the
same-run baseline). ``schemas`` counts the schemas in the database (1,000 tenants after
bench/tenants_at_scale.py).

What every tenant schema costs the one public table they all reference: ``member_insert_ms`` and
``member_delete_ms`` (creating a Member in public, and deleting it as the erasure service does,
medians over ``--member-runs``), ``member_triggers`` (triggers on ``public.members_member``) and
``tenant_member_triggers`` (those belonging to a tenant schema's foreign key: none since tenant
schemas keep no key into public, cms migration 0004; before, two per key per tenant).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import drop_tenants, median, setup_django

SLUG_PREFIX = "bench-prov-"
TARGET_RATIO = 10.0
TARGET_CLONE_S = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="tenants provisioned by cloning (default 5)")
    parser.add_argument("--migrate-runs", type=int, default=2, help="tenants provisioned by migrating (default 2)")
    parser.add_argument("--step-runs", type=int, default=3, help="clone steps timed each way, rolled back (default 3)")
    parser.add_argument("--member-runs", type=int, default=7, help="members created and deleted in public (default 7)")
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    from tenants import cloning
    from tenants.models import Tenant
    from tenants.services import (
        TEMPLATE_SCHEMA,
        bootstrap_platform,
        clone_with_django_tenants,
        provision_tenant,
        provision_tenant_by_migrating,
    )

    started = time.perf_counter()
    bootstrap_platform()
    print(f"bootstrap_platform: {time.perf_counter() - started:.1f} s")
    # Tenants left by an interrupted earlier run.
    leftovers = list(Tenant.objects.filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True))
    if leftovers:
        print(f"dropping {drop_tenants(leftovers)} tenants left by an earlier run")

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace")
        schemas = int(cursor.fetchone()[0])
    print(f"schemas in the database: {schemas}")
    member_triggers, tenant_member_triggers = _member_triggers()
    print(f"triggers on public.members_member: {member_triggers} ({tenant_member_triggers} of tenant schemas' keys)")
    member_insert_ms, member_delete_ms = _member_insert_and_delete_ms(args.member_runs)
    print(f"member in public: insert {member_insert_ms:.2f} ms, delete {member_delete_ms:.2f} ms (medians)")

    run_id = secrets.token_hex(3)
    cloning.forget_plans()
    t0 = time.perf_counter()
    cloning.plan_for(TEMPLATE_SCHEMA)
    plan_read_s = time.perf_counter() - t0
    print(f"clone plan read from pg_catalog: {plan_read_s:.3f} s")
    steps: dict[str, list[float]] = {"plan": [], "legacy": []}
    for idx in range(args.step_runs):
        for kind, clone in (
            ("plan", lambda name: cloning.clone_schema_from_plan(template=TEMPLATE_SCHEMA, target=name)),
            ("legacy", clone_with_django_tenants),
        ):
            target = f"bench_prov_{run_id}_step{idx}"
            steps[kind].append(_rolled_back(lambda clone=clone, target=target: clone(target)))
            print(f"  clone step ({kind:<6}) {steps[kind][-1]:.3f} s", flush=True)
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
    plan_step, legacy_step = median(steps["plan"]), median(steps["legacy"])
    print(f"clone step: plan {plan_step:.3f} s, django-tenants' clone_schema() {legacy_step:.3f} s (same run)")
    figures = {
        "clone_s": round(clone_s, 3),
        "migrate_s": round(migrate_s, 3),
        "ratio": round(ratio, 1),
        "plan_clone_step_s": round(plan_step, 3),
        "legacy_clone_step_s": round(legacy_step, 3),
        "plan_read_s": round(plan_read_s, 3),
        "schemas": schemas,
        "member_insert_ms": round(member_insert_ms, 2),
        "member_delete_ms": round(member_delete_ms, 2),
        "member_triggers": member_triggers,
        "tenant_member_triggers": tenant_member_triggers,
    }
    print(json.dumps(figures))


def _member_triggers() -> tuple[int, int]:
    """Triggers on public.members_member, and how many belong to a tenant schema's foreign key."""
    from django.db import connection

    from tenants.selectors import foreign_key_triggers_on

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.members_member'::regclass")
        total = int(cursor.fetchone()[0])
    from_tenants = [pair for pair in foreign_key_triggers_on(table="members_member") if pair[0] != "public"]
    return total, len(from_tenants)


def _member_insert_and_delete_ms(runs: int) -> tuple[float, float]:
    """Median milliseconds to create a Member in public (autocommit) and to delete its row the way
    the erasure service does (a raw delete; the deferred referential checks run at its commit)."""
    from members.models import Member

    inserts: list[float] = []
    deletes: list[float] = []
    tag = secrets.token_hex(3)
    for idx in range(runs):
        t0 = time.perf_counter()
        member = Member.objects.create(email=f"{SLUG_PREFIX}{tag}-{idx}@bench.invalid", display_name=f"Bench {idx}")
        inserts.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        Member.objects.filter(pk=member.pk)._raw_delete(using="default")
        deletes.append((time.perf_counter() - t0) * 1000)
    return median(inserts), median(deletes)


class _Rollback(Exception):
    pass


def _rolled_back(step: Callable[[], object]) -> float:
    """Seconds ``step`` takes inside a transaction that is then rolled back (nothing stays)."""
    from django.db import transaction

    took = 0.0
    try:
        with transaction.atomic():
            t0 = time.perf_counter()
            step()
            took = time.perf_counter() - t0
            raise _Rollback
    except _Rollback:
        pass
    return took


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    main()
