"""The edge's cost on a JSON write: ``config.edge.check_json_body`` vs the parse DRF does anyway.

    .venv/bin/python bench/edge_guard.py [--runs 50]

No database. For a small API body (a reply, ~300 bytes) and a body near the largest Django
accepts (2.3 MB of posts), it times the edge's checks (strict UTF-8, a parse with bounded
integers, and the nesting and text walk when the body could need it) and, as the same-run
baseline, a plain ``json.loads`` of the same bytes. Prints both and, as its last line,
``{"small_us": ..., "small_baseline_us": ..., "large_ms": ..., "large_baseline_ms": ...}`` (medians).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.edge import check_json_body


def _median_seconds(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    small = json.dumps({"body": 'Melatonin helps me sleep, [see] {this} "quote". ' * 5, "quoted_post_id": 12}).encode()
    post = {"title": "Sleep and steroids", "body": "How do you **sleep** on prednisone? " * 40, "tag_ids": [1, 2, 3]}
    large = json.dumps({"posts": [post] * 1500}).encode()
    large = large[:2_500_000] if len(large) > 2_500_000 else large
    figures = {
        "small_us": _median_seconds(lambda: check_json_body(small), args.runs * 20) * 1e6,
        "small_baseline_us": _median_seconds(lambda: json.loads(small), args.runs * 20) * 1e6,
        "large_ms": _median_seconds(lambda: check_json_body(large), args.runs) * 1e3,
        "large_baseline_ms": _median_seconds(lambda: json.loads(large), args.runs) * 1e3,
    }
    print(
        f"small body, {len(small)} B: edge {figures['small_us']:.1f} µs, json.loads {figures['small_baseline_us']:.1f}"
    )
    print(
        f"large body, {len(large)} B: edge {figures['large_ms']:.1f} ms, json.loads {figures['large_baseline_ms']:.1f}"
    )
    print(json.dumps({key: round(value, 2) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
