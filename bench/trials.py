"""Trial import throughput against the JSON parse floor, and trial search p95 at 20,000 trials.

    .venv/bin/python bench/trials.py [--records 20000] [--queries 300] [--warmup 30] [--page-size 1000]

Runs in its own bench database (``kindred_bench_trials`` unless ``KINDRED_BENCH_DATABASE`` says
otherwise; see bench/_setup.py), bootstrapped on first use. Steps:

1. **Records.** Replicates the shared ClinicalTrials.gov records (../shared/data/ctgov/, or the project's
   own fixtures when that folder is absent) to ``--records`` studies with new NCT ids (NCT8xxxxxxx), each
   replica's site coordinates shifted by up to ±2° so copies spread out instead of stacking on the same
   sites, written as API v2 page files (``{"studies": [...], "nextPageToken": ...}``) in a temp folder.
2. **Floor.** Reads and ``json.loads`` every page file: the parse work any importer must do.
3. **Import.** Empties the trial tables, then ``trials.services.import_paths`` on the same files (the code
   path of ``manage.py import_trials``), then ``VACUUM ANALYZE`` (untimed: what autovacuum does after a
   load). Records/s for both; the ratio.
4. **Search.** ``trials.selectors.search_trials`` (first page of 20) with a condition (taxonomy ids and
   MeSH descendants), the default status filter (recruiting / not yet recruiting) and "within 100 miles"
   of a place, over combinations of 8 conditions and 24 places; p50/p95/max over ``--queries`` queries
   after ``--warmup``. Beside it, the same-run floor: a one-row primary-key read of a trial.

Targets: import >= 1,000 records/s and within 5x of the parse floor; search p95 < 50 ms.
Last line: ``{"import_per_s": ..., "parse_floor_per_s": ..., "search_p95_ms": ..., ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("KINDRED_BENCH_DATABASE", "kindred_bench_trials")
os.environ["KINDRED_DEBUG"] = "0"

from bench._setup import ROOT, setup_django

SHARED = ROOT.parent / "shared" / "data" / "ctgov"
OWN = ROOT / "trials" / "fixtures"
CONDITIONS = [
    "diabetes mellitus", "breast neoplasms", "non-small cell lung cancer", "multiple sclerosis", "asthma",
    "hypertension", "lymphoma", "depression",
]  # fmt: skip
PLACES = [
    "New York", "Boston", "Chicago", "Houston", "Los Angeles", "Philadelphia", "Atlanta", "Seattle", "Denver",
    "Nashville", "Tucson", "Toronto", "London", "Paris", "Berlin", "Madrid", "Mumbai", "New Delhi", "Bengaluru",
    "Chennai", "Kolkata", "Hyderabad", "São Paulo", "Sydney",
]  # fmt: skip


def load_sources() -> tuple[list[dict[str, Any]], str]:
    folder = SHARED if SHARED.is_dir() else OWN
    studies: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        try:
            payload = json.loads(path.read_text())
        except ValueError:
            continue
        for study in payload.get("studies", [payload]) if isinstance(payload, dict) else payload:
            nct = study.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
            if isinstance(nct, str):
                studies.append(study)
    return studies, str(folder)


def write_replicas(
    studies: list[dict[str, Any]], *, count: int, page_size: int, folder: Path
) -> tuple[list[Path], int]:
    files: list[Path] = []
    total_bytes = 0
    page: list[str] = []

    def flush(last: bool) -> None:
        nonlocal page, total_bytes
        token = "" if last else f', "nextPageToken": "BENCH-{len(files) + 2}"'
        text = '{"studies": [' + ",".join(page) + "]" + token + "}"
        path = folder / f"page-{len(files) + 1:03d}.json"
        path.write_text(text, encoding="utf-8")
        total_bytes += len(text.encode())
        files.append(path)
        page = []

    for i in range(count):
        base = studies[i % len(studies)]
        replica = i // len(studies)
        dlat = ((replica * 7919 + i) % 401 - 200) / 100.0
        dlon = ((replica * 104729 + i * 31) % 401 - 200) / 100.0
        protocol = base["protocolSection"]
        ident = protocol["identificationModule"]
        locations = protocol.get("contactsLocationsModule", {}).get("locations", [])
        original_nct = ident["nctId"]
        saved_geo = []
        ident["nctId"] = f"NCT8{i:07d}"
        for loc in locations:
            geo = loc.get("geoPoint")
            saved_geo.append(dict(geo) if isinstance(geo, dict) else None)
            numeric = isinstance(geo, dict) and all(isinstance(geo.get(k), int | float) for k in ("lat", "lon"))
            if numeric:
                geo["lat"] = max(-89.0, min(89.0, geo["lat"] + dlat))
                geo["lon"] = (geo["lon"] + dlon + 180) % 360 - 180
        page.append(json.dumps(base, ensure_ascii=False, separators=(",", ":")))
        ident["nctId"] = original_nct
        for loc, geo in zip(locations, saved_geo, strict=True):
            if geo is not None:
                loc["geoPoint"] = geo
        if len(page) == page_size:
            flush(last=i == count - 1)
    if page:
        flush(last=True)
    return files, total_bytes


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    from tenants.services import bootstrap_platform

    started = time.perf_counter()
    bootstrap_platform()
    print(f"bench database {connection.settings_dict['NAME']} ready ({time.perf_counter() - started:.1f} s)")

    from trials.geo import resolve_place
    from trials.models import Trial, TrialSite
    from trials.selectors import TrialQuery, condition_ids_for_text, search_trials
    from trials.services import import_paths

    studies, source = load_sources()
    print(f"source: {len(studies)} studies from {source}")
    with tempfile.TemporaryDirectory(prefix="kindred-bench-trials-") as tmp:
        started = time.perf_counter()
        files, total_bytes = write_replicas(studies, count=args.records, page_size=args.page_size, folder=Path(tmp))
        print(
            f"records: {args.records} studies in {len(files)} page files, {total_bytes / 1e6:.0f} MB "
            f"(written in {time.perf_counter() - started:.1f} s)"
        )

        started = time.perf_counter()
        parsed = 0
        for path in files:
            parsed += len(json.loads(path.read_bytes())["studies"])
        floor_s = time.perf_counter() - started
        assert parsed == args.records

        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE trials_trialnotice, trials_savedtrial, trials_trialcondition, trials_trialsite, trials_trial"
            )
        started = time.perf_counter()
        if os.environ.get("BENCH_PROFILE_IMPORT"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            report = import_paths(paths=files)
            profiler.disable()
            pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(25)
        else:
            report = import_paths(paths=files)
        import_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that lets the
        # search read candidate ids and site points from indexes alone.
        cursor.execute("VACUUM ANALYZE trials_trial, trials_trialsite, trials_trialcondition")
    assert report.created == args.records, report.summary()
    sites = TrialSite.objects.count()
    geo_sites = TrialSite.objects.filter(lat__isnull=False).count()
    import_per_s = args.records / import_s
    floor_per_s = args.records / floor_s
    print()
    print(f"import: {report.summary()}; {sites} sites ({geo_sites} with a geo point)")
    print(f"  parse floor  {floor_s:7.2f} s  {floor_per_s:9.0f} records/s")
    print(f"  import       {import_s:7.2f} s  {import_per_s:9.0f} records/s   ({import_s / floor_s:.2f}x the floor)")
    print("  targets: >= 1000 records/s, <= 5x the floor")

    condition_sets = [tuple(sorted(condition_ids_for_text(text))) for text in CONDITIONS]
    places = [resolve_place(name) for name in PLACES]
    combos = [(c, p) for c in condition_sets for p in places if p is not None and c]
    total = args.warmup + args.queries
    times: list[float] = []
    floor_times: list[float] = []
    hits: list[int] = []
    some_pk = Trial.objects.order_by("pk").values_list("pk", flat=True).first()
    for n in range(total):
        conditions, place = combos[(n * 7) % len(combos)]
        query = TrialQuery(condition_ids=conditions, place=place, within_miles=100.0)
        t0 = time.perf_counter()
        page = search_trials(query=query, limit=20)
        elapsed = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        Trial.objects.filter(pk=some_pk).only("pk", "nct_id").first()
        floor_elapsed = (time.perf_counter() - t0) * 1000
        if n >= args.warmup:
            times.append(elapsed)
            floor_times.append(floor_elapsed)
            hits.append(len(page.hits))
    p50, p95 = statistics.median(times), percentile(times, 95)
    print()
    print(
        f"search over {Trial.objects.count()} trials: condition + recruiting + within 100 mi, "
        f"{len(times)} queries ({len(combos)} condition x place combinations)"
    )
    print(f"  results per query: median {statistics.median(hits):.0f}, max {max(hits)}, empty {hits.count(0)}")
    print(f"  search       p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  max {max(times):6.2f} ms   (target p95 < 50 ms)")
    print(f"  floor (pk read) p50 {statistics.median(floor_times):6.2f} ms  p95 {percentile(floor_times, 95):6.2f} ms")
    print(
        json.dumps(
            {
                "import_per_s": round(import_per_s),
                "parse_floor_per_s": round(floor_per_s),
                "import_vs_floor": round(import_s / floor_s, 2),
                "search_p95_ms": round(p95, 2),
                "search_p50_ms": round(p50, 2),
                "records": args.records,
                "sites": sites,
            }
        )
    )


if __name__ == "__main__":
    main()
