"""migrate_schemas at scale: a no-op run and an additive migration over N tenant schemas.

    .venv/bin/python bench/tenants_at_scale.py [--tenants 1000] [--kill-at 0.3] [--baseline]
    .venv/bin/python bench/tenants_at_scale.py --cleanup

1. Makes sure N bench tenants exist (cloned from the template; the ones a previous run left are
   reused, extra ones dropped) and reports how long creating the missing ones took.
2. Times ``migrate_schemas`` when nothing is pending (the no-op case).
3. Times an additive migration (a nullable column plus an index on ``communities_community``)
   over every tenant schema. It is run in a subprocess that is killed with SIGKILL once about
   ``--kill-at`` of the schemas have it; the bench then checks that no schema is half-migrated
   (each has the column, the index and the django_migrations row, or none of them) and runs
   ``migrate_schemas`` again to completion. The additive time is both runs together.
4. Reports the peak resident memory of this process and of its (largest) child.
5. With ``--baseline``: the same no-op and additive runs with django-tenants' own standard
   executor (Django's migrate command for every schema), in subprocesses; slow at 1000 tenants.

The additive migration never touches the repository: it is written into a temporary copy of
``communities``' migrations that ``MIGRATION_MODULES`` points at for the migrate runs only, and
it is unapplied from every schema afterwards (also at the start of a run, should a killed run
have left it behind). The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import ROOT, drop_tenants, peak_rss_mb, setup_django

SLUG_PREFIX = "bench-scale-"
BENCH_PACKAGE = "kindred_bench_migrations"
BENCH_MIGRATION = "9999_bench_additive"
BENCH_TABLE = "communities_community"
BENCH_COLUMN = "bench_additive"
BENCH_INDEX = "community_bench_add_idx"
BATCH = 200
TARGET_NOOP_S = 60.0
TARGET_PEAK_MB = 500.0

MIGRATION_TEMPLATE = '''"""Throw-away migration written by bench/tenants_at_scale.py; never committed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("communities", "{parent}")]

    operations = [
        migrations.AddField("community", "{column}", models.IntegerField(null=True)),
        migrations.AddIndex("community", models.Index(fields=["{column}"], name="{index}")),
    ]
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000, help="number of bench tenant schemas (default 1000)")
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of schemas migrated before the kill")
    parser.add_argument("--cleanup", action="store_true", help="drop every bench tenant and exit")
    parser.add_argument("--baseline", action="store_true", help="also time django-tenants' standard executor (slow)")
    parser.add_argument("--migrate-worker", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--standard-executor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.migrate_worker:
        migrate_worker(Path(args.migrate_worker) if args.migrate_worker != "-" else None, args.standard_executor)
        return
    setup_django()
    if args.cleanup:
        cleanup()
        return
    run(args.tenants, args.kill_at, args.baseline)


# --- the migrate subprocess -------------------------------------------------------------


def migrate_worker(package_dir: Path | None, standard_executor: bool) -> None:
    """``migrate_schemas`` (with the throw-away migration on disk, if given), in a subprocess."""
    setup_django()
    if standard_executor:
        from django.conf import settings

        # Read when django-tenants' migrate_schemas module is first imported, just below.
        assert "django_tenants.management.commands.migrate_schemas" not in sys.modules
        settings.GET_EXECUTOR_FUNCTION = "django_tenants.migration_executors.get_executor"
    if package_dir is not None:
        use_bench_migrations(package_dir)
    from django.core.management import call_command

    call_command("migrate_schemas", interactive=False, verbosity=1)


def use_bench_migrations(package_dir: Path) -> None:
    from django.conf import settings

    if str(package_dir) not in sys.path:
        sys.path.insert(0, str(package_dir))
    importlib.invalidate_caches()
    settings.MIGRATION_MODULES = {**settings.MIGRATION_MODULES, "communities": f"{BENCH_PACKAGE}.communities"}


@contextmanager
def bench_migration_package() -> Iterator[Path]:
    """A temporary copy of communities' migrations plus the additive one; removed afterwards."""
    from django.db.migrations.loader import MigrationLoader

    tmp = Path(tempfile.mkdtemp(prefix="kindred-bench-migrations-"))
    try:
        package = tmp / BENCH_PACKAGE / "communities"
        package.mkdir(parents=True)
        (tmp / BENCH_PACKAGE / "__init__.py").write_text("")
        for source in (ROOT / "communities" / "migrations").glob("*.py"):
            shutil.copy(source, package / source.name)
        graph = MigrationLoader(None, ignore_no_migrations=True).graph
        leaves = graph.leaf_nodes("communities")
        if len(leaves) != 1:
            raise SystemExit(f"communities has {len(leaves)} leaf migrations; expected one")
        (package / f"{BENCH_MIGRATION}.py").write_text(
            MIGRATION_TEMPLATE.format(parent=leaves[0][1], column=BENCH_COLUMN, index=BENCH_INDEX)
        )
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- the benchmark ----------------------------------------------------------------------


def run(n_tenants: int, kill_at: float, baseline: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    from tenants.migration_executor import schemas_needing_migration
    from tenants.services import bootstrap_platform

    started = time.perf_counter()
    bootstrap_platform()
    print(f"bootstrap_platform: {time.perf_counter() - started:.1f} s", flush=True)
    undo_additive(quiet=False)  # a killed earlier run may have left it behind
    create_s, created = ensure_tenants(n_tenants)
    schemas = tenant_schemas()
    print(f"tenant schemas (bench tenants + template + others in the bench DB): {len(schemas)}")

    pending_before = schemas_needing_migration(schemas)
    started = time.perf_counter()
    call_command("migrate_schemas", interactive=False, verbosity=0)
    noop_s = time.perf_counter() - started
    connection.set_schema_to_public()
    print(f"no-op migrate_schemas: {noop_s:.1f} s ({len(pending_before)} schemas were pending)", flush=True)

    killed_run_s = resumed_s = 0.0
    killed_at = half_after_kill = half_final = fully_migrated = -1
    worker_failed = ""
    try:
        with bench_migration_package() as package_dir:
            log = Path(tempfile.gettempdir()) / "kindred-bench-additive.log"
            print(f"additive migration: worker output in {log}", flush=True)
            with log.open("w") as out:
                killed_run_s, killed_at, rc = run_worker(
                    package_dir, out, kill_when=max(1, int(len(schemas) * kill_at))
                )
            time.sleep(0.5)  # let the server notice the dead client and abort its transaction
            half_after_kill = len(half_migrated(schemas))
            print(
                f"  killed (SIGKILL) after {killed_run_s:.1f} s with {killed_at}/{len(schemas)} schemas migrated"
                if rc == -signal.SIGKILL
                else f"  the worker finished (rc={rc}) before it could be killed ({killed_run_s:.1f} s)",
                flush=True,
            )
            print(f"  half-migrated schemas after the kill: {half_after_kill}", flush=True)
            with log.open("a") as out:
                resumed_s, _, rc = run_worker(package_dir, out, kill_when=None)
            if rc != 0:
                worker_failed = f"resumed run exited with {rc}; see {log}"
            half_final = len(half_migrated(schemas))
            fully_migrated = len(migrated_schemas(schemas))
            print(f"  resumed run: {resumed_s:.1f} s; {fully_migrated}/{len(schemas)} schemas migrated", flush=True)
    finally:
        undo_additive(quiet=False)
    # Before the baseline: its subprocesses are not what the target is about.
    own_mb, child_mb = peak_rss_mb()
    base = run_baseline() if baseline else {}

    additive_s = killed_run_s + resumed_s
    half = max(half_after_kill, half_final)
    peak = max(own_mb, child_mb)
    n = len(schemas)
    print()
    print(f"migrate_schemas over {n} tenant schemas")
    print(f"  creating {created} missing tenants by cloning  {create_s:8.1f} s")
    print(
        f"  no-op migrate_schemas                  {noop_s:8.1f} s  ({1000 * noop_s / n:.1f} ms/schema)"
        f"  target <= {TARGET_NOOP_S:.0f} s at 1000: {_verdict(noop_s * 1000 / n <= TARGET_NOOP_S)}"
    )
    print(
        f"  additive migration (killed + resumed)  {additive_s:8.1f} s  ({1000 * additive_s / n:.1f} ms/schema;"
        f" {killed_run_s:.1f} s until the kill at {killed_at} schemas + {resumed_s:.1f} s resumed)"
    )
    print(f"  half-migrated schemas                  {half:8d}    target 0: {_verdict(half == 0)}")
    print(f"  fully migrated after resuming          {fully_migrated:8d} of {n}")
    print(
        f"  peak RSS                               {peak:8.0f} MB (this process {own_mb:.0f} MB, largest child"
        f" {child_mb:.0f} MB)  target <= {TARGET_PEAK_MB:.0f} MB: {_verdict(peak <= TARGET_PEAK_MB)}"
    )
    if base:
        print(
            f"  baseline, django-tenants' standard executor (subprocesses, incl. ~2 s start-up each):\n"
            f"    no-op                                {base['noop_s']:8.1f} s  ({base['noop_s'] / noop_s:.0f}x ours)\n"
            f"    additive migration                   {base['additive_s']:8.1f} s  "
            f"({base['additive_s'] / additive_s:.1f}x ours)"
        )
    if worker_failed:
        print(f"  WARNING: {worker_failed}")
    print(
        json.dumps(
            {
                "tenants": n,
                "noop_migrate_s": round(noop_s, 2),
                "additive_migrate_s": round(additive_s, 2),
                "half_migrated": half,
                "peak_rss_mb": round(peak),
            }
        )
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def run_baseline() -> dict[str, float]:
    """The no-op and the additive migration with django-tenants' standard executor."""
    schemas = tenant_schemas()
    log = Path(tempfile.gettempdir()) / "kindred-bench-baseline.log"
    print(f"baseline (django-tenants' standard executor): output in {log}", flush=True)
    try:
        with log.open("w") as out:
            noop_s, _, rc = run_worker(None, out, kill_when=None, standard=True)
            print(f"  no-op: {noop_s:.1f} s (rc={rc})", flush=True)
            with bench_migration_package() as package_dir:
                additive_s, _, rc = run_worker(package_dir, out, kill_when=None, standard=True)
            done = len(migrated_schemas(schemas))
            print(f"  additive: {additive_s:.1f} s (rc={rc}); {done}/{len(schemas)} schemas migrated", flush=True)
    finally:
        undo_additive(quiet=False)
    return {"noop_s": noop_s, "additive_s": additive_s}


def run_worker(
    package_dir: Path | None, out: object, *, kill_when: int | None, standard: bool = False
) -> tuple[float, int, int]:
    """Run the migrate worker; SIGKILL it once ``kill_when`` schemas have the migration."""
    schemas = tenant_schemas()
    started = time.perf_counter()
    command = [sys.executable, str(Path(__file__).resolve()), "--migrate-worker", str(package_dir or "-")]
    proc = subprocess.Popen(
        command + (["--standard-executor"] if standard else []),
        stdout=out,  # type: ignore[arg-type]
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=os.environ.copy(),
    )
    done = 0
    while proc.poll() is None:
        if kill_when is not None:
            done = len(migrated_schemas(schemas))
            if done >= kill_when:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                break
        time.sleep(0.25)  # polling reads every schema: keep it from competing with the worker
    proc.wait()
    return time.perf_counter() - started, done, proc.returncode


def ensure_tenants(n_tenants: int) -> tuple[float, int]:
    from django.db import connection

    from tenants.models import Tenant
    from tenants.services import provision_tenant

    wanted = [f"{SLUG_PREFIX}{i:05d}" for i in range(n_tenants)]
    existing = set(Tenant.objects.filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True))
    extra = sorted(existing - set(wanted))
    if extra:
        print(f"dropping {len(extra)} bench tenants beyond --tenants {n_tenants}", flush=True)
        drop_tenants(extra, progress_every=100)
    missing = [slug for slug in wanted if slug not in existing]
    print(f"bench tenants: {len(wanted) - len(missing)} reused, {len(missing)} to create", flush=True)
    started = time.perf_counter()
    for idx, slug in enumerate(missing, start=1):
        provision_tenant(name=f"Bench tenant {slug[-5:]}", slug=slug, domain=f"{slug}.localhost")
        # A fresh server connection per tenant: a backend keeps every relation it created or touched
        # in its catalog caches, so one connection cloning a thousand schemas grows with each one.
        connection.close()
        if idx % 50 == 0 or idx == len(missing):
            took = time.perf_counter() - started
            print(f"  created {idx}/{len(missing)} ({took:.0f} s, {took / idx:.2f} s/tenant)", flush=True)
    return time.perf_counter() - started, len(missing)


def tenant_schemas() -> list[str]:
    from tenants.models import Tenant

    return list(
        Tenant.objects.exclude(schema_name="public").order_by("schema_name").values_list("schema_name", flat=True)
    )


def migrated_schemas(schemas: list[str]) -> set[str]:
    """Schemas whose django_migrations records the throw-away migration (batched queries)."""
    from django.db import connection

    found: set[str] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(schemas), BATCH):
            chunk = schemas[start : start + BATCH]
            sql = " UNION ALL ".join(
                f"SELECT %s FROM {connection.ops.quote_name(s)}.django_migrations WHERE app = %s AND name = %s"
                for s in chunk
            )
            params: list[str] = []
            for s in chunk:
                params += [s, "communities", BENCH_MIGRATION]
            cursor.execute(sql, params)
            found.update(row[0] for row in cursor.fetchall())
    return found


def schemas_with_column() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND a.attname = %s AND NOT a.attisdropped",
            [BENCH_TABLE, BENCH_COLUMN],
        )
        return {row[0] for row in cursor.fetchall()}


def schemas_with_index() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaname FROM pg_indexes WHERE indexname = %s", [BENCH_INDEX])
        return {row[0] for row in cursor.fetchall()}


def half_migrated(schemas: list[str]) -> list[str]:
    """Schemas that have some but not all of: the column, the index, the migration row."""
    parts = (schemas_with_column(), schemas_with_index(), migrated_schemas(schemas))
    return [s for s in schemas if 0 < sum(s in part for part in parts) < 3]


def undo_additive(*, quiet: bool = True) -> None:
    """Remove the throw-away migration's column, index and rows from every schema (public too)."""
    from django.db import connection, transaction

    connection.set_schema_to_public()
    schemas = ["public", *tenant_schemas()]
    with_column = schemas_with_column()
    recorded = migrated_schemas(schemas)
    targets = [s for s in schemas if s in with_column or s in recorded]
    if not targets:
        return
    if not quiet:
        print(f"removing the bench migration from {len(targets)} schemas", flush=True)
    for start in range(0, len(targets), 50):
        with transaction.atomic(), connection.cursor() as cursor:
            for schema in targets[start : start + 50]:
                quoted = connection.ops.quote_name(schema)
                if schema in with_column:
                    # Dropping the column drops its index too.
                    cursor.execute(f"ALTER TABLE {quoted}.{BENCH_TABLE} DROP COLUMN IF EXISTS {BENCH_COLUMN}")
                cursor.execute(
                    f"DELETE FROM {quoted}.django_migrations WHERE app = 'communities' AND name = %s",
                    [BENCH_MIGRATION],
                )


def cleanup() -> None:
    from tenants.models import Tenant

    undo_additive(quiet=False)
    slugs = list(Tenant.objects.filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True))
    started = time.perf_counter()
    dropped = drop_tenants(slugs, progress_every=100)
    print(f"dropped {dropped} bench tenants in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
