"""The free-text scrubber: recall and precision per identifier type, and throughput on one core.

    .venv/bin/python bench/deidentify.py [--data ../shared/data/pii-dev/pii_dev.jsonl] [--posts 100000]

Quality: every annotated example of the PII developer set (JSON lines ``{"text", "spans": [{start, end,
label}]}``); its labels are mapped to ours (PERSON/NAME → NAME, PHONE_NUMBER → PHONE, DATE_TIME → DATE,
DOMAIN_NAME → URL, IP_ADDRESS → IP, US_SSN/CREDIT_CARD/US_DRIVER_LICENSE → ID, ...). A gold span is
recalled when at least 80 % of its characters are replaced (by any placeholder: the identifier is gone);
a placeholder is a true positive when it overlaps any annotated span (LOCATION and ORGANIZATION too:
those are identifying, even if we do not target them). Labels we do not target (LOCATION, ORGANIZATION,
FACILITY, TITLE) are not in recall. When the set is absent the bench says so and measures our own small
built-in sample instead (figures then describe that sample only).

Medical words: a built-in list of drug and disease sentences must come out unchanged (``medical_kept``).

Throughput: ``--posts`` posts (the examples repeated, with forum-like sentences between) scrubbed in this
one process, one core, after the vocabularies are loaded. Same-run baseline: the structured regexes alone
(no name detection). Last line: JSON with ``recall``, ``precision`` (objects by type), ``posts_per_s``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from research import deidentify

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the repository; a git worktree may sit one level deeper (/work/wt/<branch>).
DEFAULT_DATA = next(
    (
        candidate
        for candidate in (base / "shared" / "data" / "pii-dev" / "pii_dev.jsonl" for base in ROOT.parents[:3])
        if candidate.is_file()
    ),
    ROOT.parent / "shared" / "data" / "pii-dev" / "pii_dev.jsonl",
)

LABELS = {
    "PERSON": "NAME", "NAME": "NAME", "PER": "NAME",
    "EMAIL": "EMAIL", "EMAIL_ADDRESS": "EMAIL",
    "PHONE": "PHONE", "PHONE_NUMBER": "PHONE",
    "DATE": "DATE", "DATE_TIME": "DATE",
    "URL": "URL", "DOMAIN_NAME": "URL",
    "IP": "IP", "IP_ADDRESS": "IP",
    "ADDRESS": "ADDRESS", "STREET_ADDRESS": "ADDRESS",
    "POSTCODE": "POSTCODE", "ZIP": "POSTCODE", "ZIPCODE": "POSTCODE",
    "ID": "ID", "US_SSN": "ID", "CREDIT_CARD": "ID", "US_DRIVER_LICENSE": "ID", "IBAN_CODE": "ID",
    "US_BANK_NUMBER": "ID", "US_PASSPORT": "ID", "MEDICAL_RECORD": "ID",
    "AGE": "AGE", "HANDLE": "HANDLE", "USERNAME": "HANDLE", "MENTION": "MENTION",
}  # fmt: skip

# Our own small sample (written for this bench; no real person): used when the developer set is absent.
_SAMPLE = [
    ("Hi, my name is Lauren Whitfield and I was diagnosed with lupus in 2019.", [("Lauren Whitfield", "NAME")]),
    (
        "Email me at lauren.w@example.com or call 555-201-7788 after 6pm.",
        [("lauren.w@example.com", "EMAIL"), ("555-201-7788", "PHONE")],
    ),
    ("Dr. Okafor switched me from Humira to Rinvoq on 03/14/2023.", [("Okafor", "NAME"), ("03/14/2023", "DATE")]),
    (
        "My son Tobias starts methotrexate next week; see https://kindred.example.org/t/12",
        [("Tobias", "NAME"), ("https://kindred.example.org/t/12", "URL")],
    ),
    (
        "I live at 42 Harbour Street, Dunedin 9016 and my NHS number is 943 476 5919.",
        [("42 Harbour Street", "ADDRESS"), ("9016", "POSTCODE"), ("943 476 5919", "ID")],
    ),
    (
        "My MRN-2023-004411 was mixed up with another patient on March 3, 2024.",
        [("MRN-2023-004411", "ID"), ("March 3, 2024", "DATE")],
    ),
    (
        "Thanks @river_walker, the metformin tip helped. Follow me on insta @sunnydays_88",
        [("@river_walker", "MENTION"), ("insta @sunnydays_88", "HANDLE")],
    ),
    ("The server logged 192.168.20.14 when Priya Raman signed in.", [("192.168.20.14", "IP"), ("Priya Raman", "NAME")]),
    ("My grandmother is 93 years old and still takes warfarin.", [("93", "AGE")]),
    ("Call +44 20 7946 0958 and ask for Mrs. Gallagher.", [("+44 20 7946 0958", "PHONE"), ("Gallagher", "NAME")]),
    (
        "Write to me at 17 Rosewood Avenue, Leeds LS6 2AB, or on 0113 496 0123.",
        [("17 Rosewood Avenue", "ADDRESS"), ("LS6 2AB", "POSTCODE"), ("0113 496 0123", "PHONE")],
    ),
]
BUILT_IN = [
    (text, [(text.index(part), text.index(part) + len(part), kind) for part, kind in spans]) for text, spans in _SAMPLE
]

MEDICAL = [
    "Ocrevus infusions every six months have kept my relapsing MS quiet.",
    "Crohn's disease flares after ibuprofen; my GI suggested mesalamine and Stelara.",
    "Parkinson's tremor improved on carbidopa-levodopa, Hashimoto's thyroiditis is stable on levothyroxine.",
    "Metformin and Ozempic together lowered my HbA1c; fatigue and neuropathy remain.",
    "Rheumatoid arthritis: methotrexate, Humira, then Rinvoq. Lupus nephritis needs CellCept.",
    "Tamoxifen after lumpectomy, Herceptin for HER2-positive breast cancer.",
    "Fibromyalgia pain with gabapentin and duloxetine; Addison's disease needs hydrocortisone.",
]

FILLER = [
    "Does anyone else get brain fog in the afternoon? I find a short walk helps a little.",
    "Thank you all for the kind words, this community means a lot to me.",
    "Started a new job last month and I am trying to pace myself with the fatigue.",
]


def load(path: Path) -> list[tuple[str, list[tuple[int, int, str]]]]:
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        examples.append((row["text"], [(s["start"], s["end"], s["label"]) for s in row.get("spans", [])]))
    return examples


def evaluate(examples: list[tuple[str, list[tuple[int, int, str]]]], find) -> tuple[dict, dict, Counter]:  # type: ignore[no-untyped-def]
    gold_total: Counter[str] = Counter()
    gold_hit: Counter[str] = Counter()
    pred_total: Counter[str] = Counter()
    pred_ok: Counter[str] = Counter()
    for text, gold in examples:
        predicted = find(text)
        covered = [False] * (len(text) + 1)
        for span in predicted:
            for i in range(span.start, span.end):
                covered[i] = True
        for start, end, label in gold:
            ours = LABELS.get(label)
            if ours is None or end <= start:
                continue
            gold_total[ours] += 1
            if sum(covered[start:end]) >= 0.8 * (end - start):
                gold_hit[ours] += 1
        for span in predicted:
            pred_total[span.kind] += 1
            if any(span.start < end and start < span.end for start, end, _ in gold):
                pred_ok[span.kind] += 1
    recall = {kind: round(gold_hit[kind] / gold_total[kind], 3) for kind in sorted(gold_total)}
    precision = {kind: round(pred_ok[kind] / pred_total[kind], 3) for kind in sorted(pred_total)}
    precision["overall"] = round(sum(pred_ok.values()) / max(1, sum(pred_total.values())), 3)
    recall["overall"] = round(sum(gold_hit.values()) / max(1, sum(gold_total.values())), 3)
    return recall, precision, gold_total


def structured_only(text: str) -> list[deidentify.Span]:
    return deidentify._resolve(deidentify._structured(text))


def throughput(posts: list[str], fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for post in posts:
        fn(post)
    return len(posts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()

    if args.data.is_file():
        examples = load(args.data)
        source = f"{args.data} ({len(examples)} examples)"
    else:
        examples = [(text, list(spans)) for text, spans in BUILT_IN]
        source = f"BUILT-IN SAMPLE ({len(examples)} examples): {args.data} is absent, figures describe our sample only"
        print(f"NOTE: {args.data} not found; measuring the built-in sample instead.")

    started = time.perf_counter()
    deidentify.warm_up()
    load_s = time.perf_counter() - started

    recall, precision, counts = evaluate(examples, deidentify.find_identifiers)
    base_recall, _, _ = evaluate(examples, structured_only)
    medical_kept = sum(deidentify.scrub_text(text) == text for text in MEDICAL)

    corpus = [text for text, _ in examples] + [text for text, _ in BUILT_IN] + MEDICAL + FILLER
    posts = [corpus[i % len(corpus)] for i in range(args.posts)]
    rate = throughput(posts, deidentify.scrub_text)
    base_rate = throughput(posts, structured_only)

    print(f"data: {source}; vocabularies loaded in {load_s:.2f} s")
    print(f"{'type':<10}{'gold':>6}{'recall':>9}{'precision':>11}{'baseline recall':>17}")
    for kind in sorted(set(recall) | set(precision)):
        print(
            f"{kind:<10}{counts.get(kind, ''):>6}{recall.get(kind, '-'):>9}{precision.get(kind, '-'):>11}"
            f"{base_recall.get(kind, '-'):>17}"
        )
    print(f"medical sentences unchanged: {medical_kept}/{len(MEDICAL)}")
    print(
        f"throughput: {rate:,.0f} posts/s over {len(posts):,} posts on one core "
        f"(baseline, regexes only: {base_rate:,.0f})"
    )
    print("targets: recall >= 0.95 EMAIL/PHONE/URL/DATE, >= 0.90 NAME; precision >= 0.80 overall; >= 500 posts/s")
    print(
        json.dumps(
            {
                "recall": recall,
                "precision": precision,
                "posts_per_s": round(rate, 1),
                "baseline_posts_per_s": round(base_rate, 1),
                "baseline_recall": base_recall,
                "medical_kept": f"{medical_kept}/{len(MEDICAL)}",
                "data": "pii-dev" if args.data.is_file() else "built-in",
            }
        )
    )


if __name__ == "__main__":
    main()
