"""Server time of the forum pages at scale: topic page (50 replies), community topic list, member's feed.

    .venv/bin/python bench/forum_pages.py [--requests 200] [--warmup 10] [--communities 5] [--slug bench-forum]
                                          [--gc-freeze] [--profile] [--cprofile K]

Runs in the bench database (see bench/_setup.py) against the forum of ``bench/generate_forum.py``
(it must exist: the bench says which command fills it). Signs a member in with Django's test client
(the full middleware stack in-process, no network), then requests, round-robin, a trivial view (the
floor: ``tenants.health.health`` at ``/healthz/``), a topic with >= 50 replies, a community's topic list
and the tenant home with the member's feed, timing each ``client.get`` with ``time.perf_counter``. Prints
p50/p95/max per page, its ratio to the floor, the SQL queries of one request per page and the targets;
the last line is ``{"topic_p95_ms": ..., "feed_p95_ms": ..., "list_p95_ms": ..., "floor_p95_ms": ...,
"topic_queries": ..., "feed_queries": ..., "list_queries": ...}`` (null for a page that did not answer
200: it is left out). On a tree whose tenant URLs don't route ``/healthz/`` the bench adds the route in
its own process only and says so. ``--gc-freeze`` freezes the start-up heap before timing (see
bench/README.md), ``--profile`` lists each page's queries by time and runs EXPLAIN ANALYZE on each
page's slowest SELECT, ``--cprofile K`` profiles K more requests per page.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import setup_django

# Timings with DEBUG on would include query logging and the non-cached template loader.
os.environ["KINDRED_DEBUG"] = "0"

TARGETS_MS = {"topic": 40.0, "feed": 60.0, "list": 30.0}
FLOOR_PATH = "/healthz/"
MIN_REPLIES = 50
COMMUNITIES = 5  # a member of 5 communities: more than 98 % of the generated members
HEALTH_URL_LINE = 'path("healthz/", health, name="health"),  # from tenants.health import health'


@dataclass
class Page:
    key: str
    label: str
    path: str
    times_ms: list[float]
    queries: int = 0
    captured: list[dict[str, Any]] | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per page first (default 10)")
    parser.add_argument("--slug", default="bench-forum", help="bench tenant slug (default bench-forum)")
    parser.add_argument(
        "--communities", type=int, default=COMMUNITIES, help=f"communities of the member (default {COMMUNITIES})"
    )
    parser.add_argument("--profile", action="store_true", help="list queries by time, EXPLAIN ANALYZE the slowest")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.collect() and gc.freeze() after the warm-up (what a server could do once its app is loaded)",
    )
    parser.add_argument(
        "--cprofile", type=int, default=0, metavar="K", help="also cProfile K requests per page (top functions)"
    )
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be positive")

    setup_django()
    from django.conf import settings

    assert not settings.DEBUG, "DEBUG must be off while timing (KINDRED_DEBUG=0)"

    tenant, domain = _bench_tenant(args.slug)
    member, topic, community = _pick(tenant, args.communities)
    floor_note = _ensure_floor_url()
    client = _signed_in(domain, member)

    pages = [
        Page("floor", "floor (/healthz/)", FLOOR_PATH, []),
        Page("topic", f"topic page ({topic.reply_count} replies)", f"/t/{topic.pk}/", []),
        Page("list", "community topic list", f"/c/{community.slug}/", []),
        Page("feed", "member's feed (home)", "/", []),
        # No target in the issue; measured so a slow search shows. A two-word query over the whole
        # forum: the first and last words of the topic's title.
        Page("search", "topic search", f"/search/?{urlencode({'q': _search_words(topic.title)})}", []),
    ]
    print(f"tenant {args.slug} ({domain}, schema {tenant.schema_name})")
    print(f"member   #{member.pk}: {member.n_communities} communities, {member.n_conditions} condition(s)")
    print(f"topic    #{topic.pk} in {topic.community.slug}: {topic.reply_count} replies")
    print(f"list     /c/{community.slug}/: {community.n_topics:,} topics")
    if floor_note:
        print(floor_note)

    # A page that is not there yet (404, or an error) is reported and left out; the others are measured.
    missing: dict[str, str] = {}
    for page in list(pages):
        try:
            status = str(_get(client, page.path).status_code)
        except Exception as error:  # the test client re-raises the view's exception
            status = f"{type(error).__name__}: {error}"
        if status != "200":
            missing[page.key] = status
            pages.remove(page)
            print(f"NOT MEASURED {page.label} {page.path}: {status}")
    if not pages or pages[0].key != "floor":
        sys.exit("the floor view does not answer 200: nothing to compare with")

    for _ in range(args.warmup):
        for page in pages:
            _get(client, page.path)
    for page in pages:
        page.queries, page.captured = _count_queries(client, page.path)

    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    full_collections: list[float] = []  # ms per full (generation 2) collection during the run
    gc_started = [0.0]

    def count_full_collections(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            full_collections.append((time.perf_counter() - gc_started[0]) * 1000)

    gc.callbacks.append(count_full_collections)
    started = time.perf_counter()
    for _ in range(args.requests):
        for page in pages:
            t0 = time.perf_counter()
            response = _get(client, page.path)
            page.times_ms.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                sys.exit(f"{page.path}: HTTP {response.status_code} during the run")
    wall = time.perf_counter() - started
    gc.callbacks.remove(count_full_collections)

    floor = pages[0]
    floor_p95 = _pct(floor.times_ms, 95)
    print()
    print(f"Server time per request, ms ({args.requests} requests per page, round-robin, {wall:.1f} s)")
    frozen = f"{gc.get_freeze_count():,} objects frozen" if args.gc_freeze else "not frozen (--gc-freeze)"
    print(
        f"full (generation 2) garbage collections during the run: {len(full_collections)}, "
        f"{sum(full_collections):.0f} ms in all, longest {max(full_collections, default=0):.0f} ms; heap {frozen}"
    )
    print(f"{'page':<30} {'p50':>7} {'p95':>7} {'max':>7} {'queries':>8} {'p95/floor':>10}  target (p95)")
    for page in pages:
        p95 = _pct(page.times_ms, 95)
        target = TARGETS_MS.get(page.key)
        verdict = f"< {target:.0f} ms: {'met' if p95 < target else 'NOT met'}" if target else ""
        print(
            f"{page.label:<30} {_pct(page.times_ms, 50):>7.1f} {p95:>7.1f} {max(page.times_ms):>7.1f} "
            f"{page.queries:>8} {p95 / floor_p95:>9.1f}x  {verdict}"
        )

    if args.profile:
        _profile(pages[1:], tenant)
    if args.cprofile:
        _cprofile(client, pages[1:], args.cprofile)

    by_key = {page.key: page for page in pages}
    result: dict[str, float | int | None] = {
        f"{key}_p95_ms": round(_pct(by_key[key].times_ms, 95), 1) if key in by_key else None
        for key in ("topic", "feed", "list", "search", "floor")
    }
    result.update(
        {
            f"{key}_queries": by_key[key].queries if key in by_key else None
            for key in ("topic", "feed", "list", "search")
        }
    )
    if missing:
        print(f"not measured (null below): {', '.join(f'{key} ({status})' for key, status in missing.items())}")
    print(json.dumps(result))


# --- set-up -------------------------------------------------------------------------------------


def _search_words(title: str) -> str:
    words = [word.strip(".,;:?!\"'()").lower() for word in title.split()]
    words = [word for word in words if len(word) > 3] or ["fatigue"]
    return " ".join(dict.fromkeys([words[0], words[-1]]))


def _bench_tenant(slug: str) -> tuple[Any, str]:
    from django.db import connection

    from tenants.models import Domain, Tenant

    connection.set_schema_to_public()
    tenant = Tenant.objects.filter(slug=slug).first()
    data_dir = os.environ.get("KINDRED_DATA_DIR")
    prefix = f"KINDRED_DATA_DIR={data_dir} " if data_dir else ""
    command = f"{prefix}.venv/bin/python bench/generate_forum.py --slug {slug}  (about 25 s at full size)"
    if tenant is None:
        sys.exit(f"no tenant {slug!r} in the bench database: fill it first with\n  {command}")
    domain = Domain.objects.filter(tenant=tenant, is_primary=True).values_list("domain", flat=True).first()
    connection.set_tenant(tenant)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM communities_topic WHERE reply_count >= %s", [MIN_REPLIES])
        big = cur.fetchone()[0]
    if not big or domain is None:
        sys.exit(f"the forum of {slug!r} is empty or has no topic with {MIN_REPLIES}+ replies: run\n  {command}")
    return tenant, domain


def _pick(tenant: Any, communities: int) -> tuple[Any, Any, Any]:
    """A plain member (tenant role "member") of ``communities`` communities with a condition (the lowest id); a
    topic with >= 50 replies (the fewest, so ~50) in one of them; their community with the most topics."""
    from django.db import connection
    from django.db.models import Count

    from communities.models import Community, CommunityMembership, CommunityMembershipStatus, Topic
    from members.models import Member, TenantMembership

    connection.set_tenant(tenant)
    ranked = (
        CommunityMembership.objects.filter(status=CommunityMembershipStatus.ACTIVE)
        .values("member_id")
        .annotate(n=Count("id"))
        .filter(n=communities)
        .order_by("member_id")
        .values_list("member_id", "n")[:500]
    )
    candidates = dict(ranked)
    plain = set(
        TenantMembership.objects.filter(tenant=tenant, member_id__in=candidates, role="member").values_list(
            "member_id", flat=True
        )
    )
    members = (
        Member.objects.filter(pk__in=plain, is_active=True)
        .annotate(n_conditions=Count("conditions"))
        .filter(n_conditions__gte=1)
    )
    member = min(members, key=lambda m: m.pk, default=None)
    if member is None:
        sys.exit(
            f"no plain member of {communities} communities with a condition in the bench forum (try --communities)"
        )
    member.n_communities = candidates[member.pk]
    joined = list(
        CommunityMembership.objects.filter(member_id=member.pk, status=CommunityMembershipStatus.ACTIVE).values_list(
            "community_id", flat=True
        )
    )
    topic = (
        Topic.objects.filter(community_id__in=joined, reply_count__gte=MIN_REPLIES)
        .select_related("community")
        .order_by("reply_count", "id")
        .first()
    )
    if topic is None:
        sys.exit(f"no topic with >= {MIN_REPLIES} replies in member #{member.pk}'s communities")
    community = (
        Community.objects.filter(pk__in=joined).annotate(n_topics=Count("topics")).order_by("-n_topics", "id").first()
    )
    return member, topic, community


def _ensure_floor_url() -> str:
    """Serve the floor at /healthz/. Until the tenant URLs route it, add the route in this process only."""
    from django.conf import settings
    from django.urls import Resolver404, clear_url_caches, path, resolve

    from tenants.health import health

    try:
        resolve(FLOOR_PATH, urlconf=settings.ROOT_URLCONF)
        return ""
    except Resolver404:
        pass
    import importlib

    urls = importlib.import_module(settings.ROOT_URLCONF)
    urls.urlpatterns.insert(0, path(FLOOR_PATH.strip("/") + "/", health, name="health"))
    clear_url_caches()
    resolve(FLOOR_PATH, urlconf=settings.ROOT_URLCONF)
    return (
        f"NOTE: {FLOOR_PATH} is not routed by {settings.ROOT_URLCONF}: the bench added it in this process only "
        f"(same middleware stack and resolver). To serve it, add to {settings.ROOT_URLCONF} and "
        f"{settings.PUBLIC_SCHEMA_URLCONF}:\n  {HEALTH_URL_LINE}"
    )


def _signed_in(domain: str, member: Any) -> Any:
    """As tests/conftest.py ``signed_in``: a session for ``member`` on the tenant host."""
    from django.test import Client

    from members.middleware import SESSION_GENERATION_KEY, SESSION_HOST_KEY, SESSION_SCHEMA_KEY
    from tenants.models import Domain

    client = Client(HTTP_HOST=domain)
    client.force_login(member)
    session = client.session
    session[SESSION_GENERATION_KEY] = member.session_generation
    session[SESSION_HOST_KEY] = domain
    session[SESSION_SCHEMA_KEY] = Domain.objects.get(domain=domain).tenant.schema_name
    session.save()
    return client


# --- measuring ----------------------------------------------------------------------------------


def _get(client: Any, path: str) -> Any:
    return client.get(path)


def _count_queries(client: Any, path: str) -> tuple[int, list[dict[str, Any]]]:
    """The SQL of one request: CaptureQueriesContext counts it; a wrapper times each statement (µs, not ms)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timed: list[dict[str, Any]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.append({"sql": sql, "params": params, "ms": (time.perf_counter() - t0) * 1000})

    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(wrapper):
        response = _get(client, path)
    if response.status_code != 200:
        sys.exit(f"{path}: HTTP {response.status_code}")
    return len(ctx.captured_queries), timed


def _pct(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def _profile(pages: list[Page], tenant: Any) -> None:
    from django.db import connection

    for page in pages:
        captured = sorted(page.captured or [], key=lambda q: q["ms"], reverse=True)
        total = sum(q["ms"] for q in captured)
        print()
        print(f"--- {page.label} {page.path}: {len(captured)} queries, {total:.1f} ms in SQL (one request)")
        for query in captured:
            print(f"  {query['ms']:7.2f} ms  {_short(query['sql'])}")
        selects = [q for q in captured if q["sql"].lstrip().upper().startswith("SELECT")]
        if not selects:
            continue
        slowest = selects[0]
        connection.set_tenant(tenant)
        with connection.cursor() as cur:
            cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest['sql']}", slowest["params"])
            plan = [row[0] for row in cur.fetchall()]
            sql = connection.ops.last_executed_query(cur.cursor, slowest["sql"], slowest["params"])
        print("  EXPLAIN ANALYZE of the slowest SELECT:")
        print(f"    {_short(sql, 600)}")
        for line in plan:
            print(f"    {_short(line, 240)}")


def _short(text: str, width: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 5] + " [..]"


def _cprofile(client: Any, pages: list[Page], requests: int) -> None:
    """Where the Python time goes: cumulative time of the heaviest functions over ``requests`` requests."""
    import cProfile
    import io
    import pstats

    for page in pages:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            _get(client, page.path)
        profiler.disable()
        out = io.StringIO()
        stats = (
            pstats.Stats(profiler, stream=out)
            .strip_dirs()
            .sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative"))
        )
        stats.print_stats(30)
        print()
        print(f"--- cProfile {page.label} {page.path}, {requests} requests (cumulative)")
        lines = out.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
        for line in lines[start:]:
            if line.strip():
                print(f"  {_short(line, 180)}")


if __name__ == "__main__":
    main()
