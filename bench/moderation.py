"""Checking a post against a tenant's watched words: a 2,000-word post against 500 patterns.

    .venv/bin/python bench/moderation.py [--runs 300] [--patterns 500] [--words 2000]

Measures ``communities.watched.RuleSet.screen`` (and, on its own line, the recruiting screen every post
also passes, ``communities.recruiting.looks_like_recruiting``) (the RE2 set: one pass finds every matching pattern,
then only matching CENSOR/REPLACE rules rewrite), p50 and p95 over ``--runs`` checks of the same
post. Same-run baseline: the obvious implementation, Python's ``re`` searching each of the same
500 patterns in turn (a tenth of the runs: it is far slower). Half the patterns are words and
phrases, half regular expressions; the post
matches a few of them (as real posts do). Target: p95 < 5 ms. No database: rules are compiled
from memory, as ``tenant_rules()`` does once per change. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--patterns", type=int, default=500)
    parser.add_argument("--words", type=int, default=2000)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from communities.recruiting import looks_like_recruiting
    from communities.watched import Rule, RuleSet, compile_source

    rng = random.Random(7)
    vocabulary = [
        "fatigue", "joint", "pain", "morning", "stiffness", "doctor", "infusion", "rash", "sun", "tired",
        "sleep", "steroid", "dose", "flare", "swelling", "walk", "today", "week", "better", "worse",
        "appointment", "blood", "test", "kidney", "hair", "fever", "nausea", "hands", "cold", "warm",
    ]  # fmt: skip
    actions = ["flag", "hold", "censor", "replace", "flag"]
    rules = []
    python_patterns = []
    for number in range(args.patterns):
        if number % 2:
            pattern, is_regex = rf"\bbadword{number}x?\s+(now|today)\b", True
        else:
            pattern, is_regex = f"forbidden phrase {number}", False
        action = actions[number % len(actions)]
        rules.append(
            Rule(source=compile_source(pattern=pattern, is_regex=is_regex), action=action, replacement="[edited]")
        )
        python_patterns.append(re.compile(pattern if is_regex else rf"\b{re.escape(pattern)}\b", re.IGNORECASE))
    words = [rng.choice(vocabulary) for _ in range(args.words)]
    # A few real matches, spread through the post.
    for position, phrase in ((100, "forbidden phrase 10"), (900, "badword11x now"), (1800, "forbidden phrase 498")):
        words[position] = phrase
    post = " ".join(words)

    ruleset = RuleSet(rules)
    assert len(ruleset.screen(post).matched) == 3

    def measure(check: object, runs: int) -> list[float]:
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            check(post)  # type: ignore[operator]
            timings.append((time.perf_counter() - started) * 1000)
        return timings

    def python_re(text: str) -> list[int]:
        return [index for index, pattern in enumerate(python_patterns) if pattern.search(text)]

    re2_ms = measure(ruleset.screen, args.runs)
    # Every post is also screened for unapproved recruiting (one more RE2 set of fixed phrases).
    recruiting_ms = measure(looks_like_recruiting, args.runs)
    # The baseline is ~1000x slower: a tenth of the runs gives its p95 well enough.
    baseline_ms = measure(python_re, max(20, args.runs // 10))

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    print(
        f"post: {args.words} words, {len(post):,} characters; {args.patterns} patterns; "
        f"{args.runs} runs (baseline {len(baseline_ms)})"
    )
    print(f"RE2 set (ours)          p50 {statistics.median(re2_ms):7.3f} ms   p95 {p95(re2_ms):7.3f} ms")
    print(f"Python re, one by one   p50 {statistics.median(baseline_ms):7.3f} ms   p95 {p95(baseline_ms):7.3f} ms")
    print(f"recruiting screen       p50 {statistics.median(recruiting_ms):7.3f} ms   p95 {p95(recruiting_ms):7.3f} ms")
    print(f"target: p95 < 5 ms -> {'met' if p95(re2_ms) < 5 else 'NOT met'}")
    print(
        json.dumps(
            {
                "patterns": args.patterns,
                "words": args.words,
                "check_p50_ms": round(statistics.median(re2_ms), 3),
                "check_p95_ms": round(p95(re2_ms), 3),
                "baseline_python_re_p95_ms": round(p95(baseline_ms), 3),
                "recruiting_p95_ms": round(p95(recruiting_ms), 3),
                "target_p95_ms": 5,
            }
        )
    )


if __name__ == "__main__":
    main()
