"""Fill one bench tenant with a realistic patient forum: communities, members, topics, posts, reactions.

    .venv/bin/python bench/generate_forum.py [--scale 1.0] [--reset] [--seed 7] [--keep-indexes]

Full size (``--scale 1``): 20 communities, 10,000 members, 100,000 topics, 1,000,000 posts (opening
posts included). ``--scale`` multiplies members, topics and posts (``--scale 0.01`` for a quick run);
the 20 communities stay. Runs in the bench database (see bench/_setup.py), in the partner tenant
``--slug`` (default ``bench-forum``), provisioned with ``provision_tenant()`` on first use.

Text is built from the condition taxonomy (``conditions/taxonomy.json``: names and synonyms) and our
own vocabulary (``bench/forum_vocabulary.py``). Posts are paragraph-only Markdown with no Markdown
syntax characters, so ``body_html`` is written directly (``<p>`` per paragraph, text escaped with
``html.escape(quote=False)``); the run checks a sample against ``communities.markdown.render_markdown``
so the stored HTML is what the application would have rendered.

Members go to the public schema (``members_member`` with unusable passwords and
``@bench.invalid`` emails, ``members_tenantmembership``, ``members_member_conditions``); everything
else to the tenant schema, all with COPY in one transaction, counters (reply, reaction, answer, last
activity) computed from the rows written. Without ``--reset`` a tenant that already holds the target
counts is left as is; otherwise its forum tables are emptied and its bench members deleted first.
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import forum_vocabulary as vocab
from bench._setup import setup_django

FULL_MEMBERS = 10_000
FULL_TOPICS = 100_000
FULL_POSTS = 1_000_000
COMMUNITIES = 20
TARGET_S = 600.0
DAY = 86_400.0
HISTORY_DAYS = 730
QUESTION_SHARE = 0.55
ANSWERED_SHARE = 0.60  # of all questions
UNREPLIED_QUESTION_SHARE = 0.08  # questions nobody answered: the feed's "help someone" list
SENTENCE_POOL = 1_500  # sentences pre-rendered per community and kind
REACTION_KINDS = ("helpful", "same_here", "support")
# Tables of the tenant schema this script fills, in load order.
LOADED_TABLES = (
    "communities_community",
    "communities_community_conditions",
    "communities_tag",
    "communities_communitymembership",
    "communities_post",
    "communities_topic",
    "communities_topic_tags",
    "communities_reaction",
    "communities_topicsubscription",
)
POST_STAGE = "bench_post_stage"


@dataclass
class Timing:
    table: str
    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


@dataclass
class Targets:
    communities: int
    members: int
    topics: int
    posts: int

    @classmethod
    def for_scale(cls, scale: float) -> Targets:
        # The first member of each community moderates it; a small forum still needs plain members
        # in several communities for bench/forum_pages.py to sign in as.
        members = max(COMMUNITIES * 10, round(FULL_MEMBERS * scale))
        topics = max(1, round(FULL_TOPICS * scale))
        return cls(COMMUNITIES, members, topics, max(topics, round(FULL_POSTS * scale)))


@dataclass
class SentencePools:
    """Pre-rendered (markdown, html) sentences of one community: building a post is then only joins."""

    question: list[tuple[str, str]]
    update: list[tuple[str, str]]
    reply: list[tuple[str, str]]


@dataclass
class Forum:
    """What the generator decided, shared between the COPY steps (ids are the rows' real ids)."""

    member_ids: list[int] = field(default_factory=list)
    member_names: list[str] = field(default_factory=list)
    community_members: list[list[int]] = field(default_factory=list)  # member indexes per community
    community_conditions: list[dict[str, Any]] = field(default_factory=list)
    community_tags: list[dict[str, list[int]]] = field(default_factory=list)  # kind -> tag ids
    pools: list[SentencePools] = field(default_factory=list)
    # Topic plan (index i is topic id i + 1).
    t_community: list[int] = field(default_factory=list)
    t_question: list[bool] = field(default_factory=list)
    t_author: list[int] = field(default_factory=list)
    t_created: list[float] = field(default_factory=list)
    t_replies: list[int] = field(default_factory=list)
    post_columns: Sequence[str] = ()
    t_title: list[str] = field(default_factory=list)
    # Filled while the posts are written.
    t_last_activity: list[float] = field(default_factory=list)
    t_reaction_count: list[int] = field(default_factory=list)
    t_answer: list[int | None] = field(default_factory=list)
    reactions: list[tuple[int, int, int, float]] = field(default_factory=list)  # post, member idx, kind, at
    subscriptions: list[tuple[int, int, str, float]] = field(default_factory=list)  # topic, member idx, level
    html_checked: int = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (default 1.0)")
    parser.add_argument("--reset", action="store_true", help="empty the forum and delete bench members first")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same forum)")
    parser.add_argument("--slug", default="bench-forum", help="bench tenant slug (default bench-forum)")
    parser.add_argument(
        "--keep-indexes",
        action="store_true",
        help="load with secondary indexes and foreign keys in place (the baseline for dropping them)",
    )
    args = parser.parse_args()
    if args.scale <= 0:
        parser.error("--scale must be positive")
    targets = Targets.for_scale(args.scale)

    setup_django()
    from django.db import connection, transaction

    tenant = _ensure_tenant(args.slug)
    schema = tenant.schema_name
    email_prefix = f"{args.slug}-"
    current = _current_counts(schema, email_prefix)
    wanted = {"members": targets.members, "topics": targets.topics, "posts": targets.posts}
    print(f"tenant {args.slug} (schema {schema}): holds {current}, target {wanted}")
    if not args.reset and current == wanted:
        print("already at the target size: nothing to do (pass --reset to rebuild)")
        print(json.dumps({**wanted, "seconds": 0.0, "skipped": True}))
        return

    rng = random.Random(args.seed)
    disk_before = _database_bytes()
    started = time.perf_counter()
    timings: list[Timing] = []
    forum = Forum()
    with transaction.atomic():
        raw = connection.connection  # psycopg 3 connection, inside Django's transaction
        with raw.cursor() as cur:
            cur.execute(f'SET LOCAL search_path TO "{schema}", public')
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
            timings.append(_timed("reset", lambda: _reset(cur, schema, email_prefix)))
            dropped: list[str] = []
            if not args.keep_indexes:
                timings.append(_timed("drop indexes and FKs", lambda: _drop_secondary_indexes(cur, dropped)))
            timings.append(_timed("members_member", lambda: _load_members(cur, forum, targets, tenant.pk, rng, args)))
            timings.append(_timed("communities_community", lambda: _load_communities(cur, forum, rng)))
            timings.append(_timed("communities_tag", lambda: _load_tags(cur, forum, rng)))
            timings.append(_timed("communities_communitymembership", lambda: _load_memberships(cur, forum, rng)))
            _plan_topics(forum, targets, rng)
            timings.append(_timed("posts staged", lambda: _load_posts(cur, forum, targets, rng)))
            timings.append(_timed("communities_topic", lambda: _load_topics(cur, forum)))
            timings.append(_timed("communities_topic_tags", lambda: _load_topic_tags(cur, forum, rng)))
            timings.append(_timed("communities_post (+ search vectors)", lambda: _insert_posts(cur, forum)))
            timings.append(_timed("communities_reaction", lambda: _load_reactions(cur, forum)))
            timings.append(_timed("communities_topicsubscription", lambda: _load_subscriptions(cur, forum)))
            if dropped:
                timings.append(_timed("recreate indexes and FKs", lambda: _recreate(cur, dropped)))
            # After the indexes: the statement looks each topic's opening post and tags up by index.
            timings.append(_timed("topic search vectors", lambda: _index_search(cur)))
            timings.append(_timed("search vocabulary", lambda: _index_vocabulary(cur)))
            timings.append(_timed("sequences", lambda: _reset_sequences(cur)))
        commit_started = time.perf_counter()
    # Deferred foreign-key checks (the --keep-indexes baseline) run at commit.
    timings.append(Timing("commit", 0, time.perf_counter() - commit_started))
    print(f"  {'commit':<34} {'':>10}      {timings[-1].seconds:>7.1f} s", flush=True)
    # VACUUM cannot run in a transaction; it also sets the visibility map for index-only scans.
    timings.append(_timed("vacuum analyze", lambda: _vacuum_analyze(schema)))
    seconds = time.perf_counter() - started
    disk_after = _database_bytes()

    _report(timings, forum, schema, seconds, disk_before, disk_after)
    posts = sum(forum.t_replies) + len(forum.t_replies)
    result = {
        "members": len(forum.member_ids),
        "communities": len(forum.community_members),
        "topics": len(forum.t_replies),
        "posts": posts,
        "reactions": len(forum.reactions),
        "seconds": round(seconds, 1),
        "posts_per_s": round(posts / seconds),
        "db_mb": round(disk_after / 2**20),
        "indexes_dropped": not args.keep_indexes,
    }
    print(json.dumps(result))


# --- tenant and idempotency -------------------------------------------------------------------


def _ensure_tenant(slug: str) -> Any:
    """Provision the bench tenant on first use (bootstrapping the bench database if it is new)."""
    from django.conf import settings
    from django.db import connection

    from conditions.models import Condition
    from conditions.services import load_condition_taxonomy
    from tenants.models import Tenant
    from tenants.services import bootstrap_platform, provision_tenant

    new_database = Tenant._meta.db_table not in connection.introspection.table_names()
    if not new_database:
        # The bench measures the code of this checkout: bring an older bench database up to it
        # (a no-op in about a second when nothing is pending).
        from django.core.management import call_command

        call_command("migrate_schemas", interactive=False, verbosity=0)
    tenant = None if new_database else Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        t0 = time.perf_counter()
        if new_database or not Tenant.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).exists():
            # Only for a new bench database: bootstrapping migrates every schema it holds.
            bootstrap_platform()
        report = provision_tenant(name="Bench forum", slug=slug, domain=f"{slug}.localhost")
        tenant = report.tenant
        print(f"provisioned tenant {slug} in {time.perf_counter() - t0:.1f} s")
    if not Condition.objects.exists():
        load_condition_taxonomy()
    return tenant


def _current_counts(schema: str, email_prefix: str) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM public.members_member WHERE email LIKE %s", [f"{email_prefix}%@bench.invalid"]
        )
        members = cur.fetchone()[0]
        cur.execute(f'SELECT count(*) FROM "{schema}".communities_topic')
        topics = cur.fetchone()[0]
        cur.execute(f'SELECT count(*) FROM "{schema}".communities_post')
        posts = cur.fetchone()[0]
    return {"members": members, "topics": topics, "posts": posts}


def _reset(cur: Any, schema: str, email_prefix: str) -> int:
    """Empty the tenant's forum tables and delete this tenant's bench members (public rows)."""
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE 'communities\\_%%'", [schema])
    tables = ", ".join(f'"{schema}"."{name}"' for (name,) in cur.fetchall())
    # The moderation log refuses TRUNCATE (an append-only trigger). This is the bench's own tenant in
    # the bench's own database: its owner lifts the trigger for this one statement, in this
    # transaction, as the test suite's clean-up does; the application never does.
    cur.execute(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal",
        [schema],
    )
    guarded = [f'"{schema}"."{name}"' for (name,) in cur.fetchall()]
    for table in guarded:
        cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    # Truncating in this transaction also lets COPY ... FREEZE write already-frozen rows.
    cur.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    for table in guarded:
        cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    pattern = f"{email_prefix}%@bench.invalid"
    cur.execute("SELECT count(*) FROM public.members_member WHERE email LIKE %s", [pattern])
    count = cur.fetchone()[0]
    if count:
        bench_ids = "SELECT id FROM public.members_member WHERE email LIKE %s"
        cur.execute(f"DELETE FROM public.members_tenantmembership WHERE member_id IN ({bench_ids})", [pattern])
        cur.execute(f"DELETE FROM public.members_member_conditions WHERE member_id IN ({bench_ids})", [pattern])
        # Tenant schemas keep no foreign key into public (cms migration 0004), but public's own
        # tables still check each deleted member (~20 keys). Bench members only ever act in the
        # bench tenant, emptied above, so the checks are skipped (needs a superuser, as the
        # embedded server's postgres user is; otherwise the plain DELETE runs them).
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cur.fetchone()[0]:
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("DELETE FROM public.members_member WHERE email LIKE %s", [pattern])
        cur.execute("SET LOCAL session_replication_role = DEFAULT")
    return count


# --- indexes --------------------------------------------------------------------------------


def _drop_secondary_indexes(cur: Any, recreate: list[str]) -> int:
    """Drop the loaded tables' foreign keys and non-constraint indexes; put the DDL recreating them in ``recreate``.

    Building an index once from sorted data is cheaper than maintaining it row by row, and one
    validating join per foreign key replaces a per-row trigger lookup.
    """
    for table in LOADED_TABLES:
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        for name, definition in cur.fetchall():
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            recreate.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cur.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)",
            [table],
        )
        for name, definition in cur.fetchall():
            cur.execute(f"DROP INDEX {name}")
            recreate.insert(0, definition)  # indexes before foreign keys: the FK checks use them
    return len(recreate)


def _recreate(cur: Any, statements: list[str]) -> int:
    for statement in statements:
        cur.execute(statement)
    return len(statements)


def _reset_sequences(cur: Any) -> int:
    """Rows were written with explicit ids: move each identity past them."""
    for table in LOADED_TABLES:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(max(id), 0) + 1, false) FROM {table}"
        )
    return len(LOADED_TABLES)


def _vacuum_analyze(schema: str) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        for table in LOADED_TABLES:
            cur.execute(f'VACUUM (ANALYZE) "{schema}".{table}')
        for table in ("members_member", "members_tenantmembership", "members_member_conditions"):
            cur.execute(f"ANALYZE public.{table}")
    return len(LOADED_TABLES) + 3


# --- COPY helpers -------------------------------------------------------------------------------


def _model_defaults(table: str, columns: Sequence[str]) -> tuple[list[str], tuple[Any, ...]]:
    """Columns of ``table``'s model that the caller leaves out but may not be NULL, with their defaults.

    Django keeps most defaults in Python, not in the database: without this, every NOT NULL field
    a later migration adds (with a default) would break the generator's COPY until someone
    remembered to list it here.
    """
    from django.apps import apps
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    name = table.rsplit(".", 1)[-1]
    model = next((m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == name), None)
    if model is None:
        return [], ()
    extra: list[str] = []
    values: list[Any] = []
    for model_field in model._meta.concrete_fields:
        if model_field.column in columns or model_field.null or model_field.primary_key:
            continue
        if model_field.db_default is not NOT_PROVIDED:
            continue  # the database fills it
        # What the ORM would insert: the field's default, or "" for a text field without one.
        # None means there is no default: that column is the caller's to give.
        default = model_field.get_default()
        if default is not None:
            extra.append(model_field.column)
            values.append(model_field.get_db_prep_save(default, connection))
    return extra, tuple(values)


def _copy(cur: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, freeze: bool = True) -> int:
    """Stream rows into ``table`` with COPY; FREEZE writes them frozen (the table was truncated in this transaction).

    Columns the model defines with a default and the caller does not list get that default.
    """
    options = " (FREEZE)" if freeze else ""
    extra_columns, extra_values = _model_defaults(table, columns)
    count = 0
    with cur.copy(f"COPY {table} ({', '.join([*columns, *extra_columns])}) FROM STDIN{options}") as copy:
        write = copy.write_row
        for row in rows:
            write((*row, *extra_values) if extra_values else row)
            count += 1
    return count


def _timed(label: str, fn: Callable[[], int]) -> Timing:
    t0 = time.perf_counter()
    rows = fn()
    timing = Timing(label, rows, time.perf_counter() - t0)
    print(f"  {label:<34} {rows:>10,} rows {timing.seconds:>7.1f} s", flush=True)
    return timing


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# --- members and communities ---------------------------------------------------------------------


def _load_members(
    cur: Any, forum: Forum, targets: Targets, tenant_id: int, rng: random.Random, args: argparse.Namespace
) -> int:
    """Public members, their tenant memberships and conditions (one per member, from the first community)."""
    from django.contrib.auth.hashers import make_password

    now = time.time()
    prefix = f"{args.slug}-"
    columns = (
        "password", "last_login", "is_superuser", "public_id", "email", "display_name", "role", "birth_year",
        "country", "region", "is_active", "is_staff", "email_verified_at", "date_joined", "session_generation",
        "signup_tenant_id", "email_notifications", "sex", "show_conditions", "show_location", "show_role",
        "listed_in_member_lists",
    )  # fmt: skip
    countries = ("GB", "US", "DE", "FR", "ES", "NL", "IE", "CA", "AU", "")
    roles = ("patient", "patient", "patient", "caregiver", "other", "")
    names: list[str] = []

    def rows() -> Iterator[tuple[Any, ...]]:
        for idx in range(targets.members):
            name = f"{rng.choice(vocab.FIRST_NAMES)} {chr(65 + rng.randrange(26))}."
            names.append(name)
            joined = _ts(now - (HISTORY_DAYS + 30 + rng.random() * 300) * DAY)
            yield (
                make_password(None),  # "!" + random: an unusable password, as Django stores it
                None, False, uuid.uuid4(), f"{prefix}{idx:06d}@bench.invalid",
                name, rng.choice(roles), 1940 + rng.randrange(65), rng.choice(countries), "", True, False,
                joined, joined, 0, tenant_id, "digest", "", False, False, False, False,
            )  # fmt: skip

    count = _copy(cur, "public.members_member", columns, rows(), freeze=False)
    cur.execute("SELECT id FROM public.members_member WHERE email LIKE %s ORDER BY email", [f"{prefix}%@bench.invalid"])
    forum.member_ids = [row[0] for row in cur.fetchall()]
    forum.member_names = names
    # A few moderators: the first member of each community (see _load_memberships) moderates.
    moderators = set(range(COMMUNITIES))
    _copy(
        cur,
        "public.members_tenantmembership",
        ("role", "joined_at", "member_id", "tenant_id", "display_name"),
        (
            ("moderator" if idx in moderators else "member", _ts(now - HISTORY_DAYS * DAY), mid, tenant_id, "")
            for idx, mid in enumerate(forum.member_ids)
        ),
        freeze=False,
    )
    return count


def _load_communities(cur: Any, forum: Forum, rng: random.Random) -> int:
    """20 communities, one per condition, spread over the taxonomy's categories."""
    from django.utils.text import slugify

    taxonomy = json.loads((Path(__file__).resolve().parent.parent / "conditions" / "taxonomy.json").read_text())
    by_category: dict[str, list[dict[str, Any]]] = {}
    for entry in taxonomy:
        by_category.setdefault(entry["category"], []).append(entry)
    # Largest categories first, round robin: common conditions dominate, as on a real platform.
    categories = sorted(by_category, key=lambda c: -len(by_category[c]))
    chosen: list[dict[str, Any]] = []
    while len(chosen) < COMMUNITIES:
        for category in categories:
            pool = [e for e in by_category[category] if e not in chosen]
            if pool and len(chosen) < COMMUNITIES:
                chosen.append(rng.choice(pool))
            if len(chosen) >= COMMUNITIES:
                break
    cur.execute("SELECT mesh_id, id FROM public.conditions_condition")
    condition_ids = dict(cur.fetchall())
    now = _ts(time.time() - (HISTORY_DAYS + 1) * DAY)
    rows = []
    for idx, entry in enumerate(chosen, start=1):
        visibility = "members" if idx % 3 == 0 else "open"
        policy = "approval" if idx % 7 == 0 else "open"
        title = _readable_names(entry)[0]
        description = (
            f"A community for people living with {title} and those who care for them: questions, updates and support."
        )
        rules = "Be kind. Share experience, not medical advice. No adverts."
        rows.append((idx, f"{title[0].upper()}{title[1:]} Community", slugify(entry["name"])[:110], description, rules,
                     visibility, policy, True, now, now))  # fmt: skip
        forum.community_conditions.append(entry)
    count = _copy(
        cur,
        "communities_community",
        ("id", "name", "slug", "description", "rules", "visibility", "joining_policy", "listed_in_directory",
         "created_at", "updated_at"),
        rows,
    )  # fmt: skip
    links = [
        (idx, condition_ids[entry["mesh_id"]])
        for idx, entry in enumerate(chosen, start=1)
        if entry["mesh_id"] in condition_ids
    ]
    _copy(cur, "communities_community_conditions", ("community_id", "condition_id"), links)
    forum.pools = [_sentence_pools(entry, rng) for entry in chosen]
    return count


def _load_tags(cur: Any, forum: Forum, rng: random.Random) -> int:
    """Curated tags per community: every topic tag, 12 symptoms and 10 treatments of its own."""
    from django.utils.text import slugify

    created = _ts(time.time() - HISTORY_DAYS * DAY)
    rows = []
    tag_id = 0
    for community in range(COMMUNITIES):
        by_kind: dict[str, list[int]] = {"topic": [], "symptom": [], "treatment": []}
        names = {
            "topic": list(vocab.TOPIC_TAGS),
            "symptom": rng.sample(vocab.SYMPTOMS, 12),
            "treatment": rng.sample(vocab.TREATMENTS, 10),
        }
        for kind, kind_names in names.items():
            for name in kind_names:
                tag_id += 1
                label = name[0].upper() + name[1:]
                rows.append((tag_id, community + 1, kind, label[:60], slugify(name)[:60], "curated", created))
                by_kind[kind].append(tag_id)
        forum.community_tags.append(by_kind)
    return _copy(cur, "communities_tag", ("id", "community_id", "kind", "name", "slug", "status", "created_at"), rows)


def _load_memberships(cur: Any, forum: Forum, rng: random.Random) -> int:
    """Each member joins 1-5 communities, popular ones more often (Zipf-like weights)."""
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(COMMUNITIES)]
    forum.community_members = [[] for _ in range(COMMUNITIES)]
    conditions: list[tuple[int, int]] = []
    cur.execute("SELECT mesh_id, id FROM public.conditions_condition")
    condition_ids = dict(cur.fetchall())
    rows = []
    joined = _ts(time.time() - HISTORY_DAYS * DAY)
    for idx in range(len(forum.member_ids)):
        # Member i < 20 is the first member (and moderator) of community i: none is empty.
        chosen = {idx} if idx < COMMUNITIES else set()
        want = min(COMMUNITIES, 1 + int(rng.expovariate(1.0)))
        while len(chosen) < want:
            chosen.add(rng.choices(range(COMMUNITIES), weights)[0])
        for community in sorted(chosen):
            forum.community_members[community].append(idx)
            rows.append((community + 1, forum.member_ids[idx], "active", joined))
        first = forum.community_conditions[min(chosen)]
        if first["mesh_id"] in condition_ids:
            conditions.append((forum.member_ids[idx], condition_ids[first["mesh_id"]]))
    _copy(cur, "public.members_member_conditions", ("member_id", "condition_id"), conditions, freeze=False)
    return _copy(cur, "communities_communitymembership", ("community_id", "member_id", "status", "joined_at"), rows)


# --- text ------------------------------------------------------------------------------------------


def _readable_names(condition: dict[str, Any]) -> list[str]:
    """The condition's name and synonyms, without MeSH's inverted forms ("Arthritis, Juvenile") when possible."""
    names = [condition["name"], *condition.get("synonyms", [])]
    return [n for n in names if "," not in n] or names


def _fill(template: str, condition: dict[str, Any], rng: random.Random) -> str:
    names = _readable_names(condition)
    treatment, treatment2 = rng.sample(vocab.TREATMENTS, 2)
    text = template.format(
        condition=rng.choice(names),
        symptom=rng.choice(vocab.SYMPTOMS),
        treatment=treatment,
        treatment2=treatment2,
        test=rng.choice(vocab.TESTS),
        feeling=rng.choice(vocab.FEELINGS),
        life=rng.choice(vocab.LIFE),
        duration=rng.choice(vocab.DURATIONS),
        person=rng.choice(vocab.PEOPLE),
        clinician=rng.choice(vocab.CLINICIANS),
    )
    return text[0].upper() + text[1:]


def _sentence_pools(condition: dict[str, Any], rng: random.Random) -> SentencePools:
    def pool(templates: Sequence[str]) -> list[tuple[str, str]]:
        sentences = (_fill(rng.choice(templates), condition, rng) for _ in range(SENTENCE_POOL))
        return [(s, html.escape(s, quote=False)) for s in sentences]

    return SentencePools(
        question=pool(vocab.QUESTION_SENTENCES),
        update=pool(vocab.UPDATE_SENTENCES),
        reply=pool(vocab.REPLY_SENTENCES),
    )


def _body(
    pool: list[tuple[str, str]], paragraphs: int, max_sentences: int, rng: random.Random, greeting: str = ""
) -> tuple[str, str]:
    """A paragraph-only Markdown body and its HTML (what render_markdown gives for such text)."""
    md_parts: list[str] = []
    html_parts: list[str] = []
    size = len(pool)
    used: set[tuple[str, str]] = set()
    for _ in range(paragraphs):
        picked = []
        for _ in range(1 + rng.randrange(max_sentences)):
            sentence = pool[rng.randrange(size)]
            if sentence not in used:  # a post never repeats a sentence
                used.add(sentence)
                picked.append(sentence)
        if not picked:
            continue
        md = " ".join(s[0] for s in picked)
        markup = " ".join(s[1] for s in picked)
        if greeting and not md_parts:
            md = f"{greeting} {md}"
            markup = f"{html.escape(greeting, quote=False)} {markup}"
        md_parts.append(md)
        html_parts.append(f"<p>{markup}</p>")
    return "\n\n".join(md_parts), "\n".join(html_parts)


# --- topics and posts ---------------------------------------------------------------------------------


def _plan_topics(forum: Forum, targets: Targets, rng: random.Random) -> None:
    """Decide each topic's community, kind, author, time, title and reply count before writing posts."""
    now = time.time()
    weights = [max(1, len(members)) for members in forum.community_members]
    communities = rng.choices(range(COMMUNITIES), weights, k=targets.topics)
    spread: list[float] = []
    for community in communities:
        members = forum.community_members[community]
        question = rng.random() < QUESTION_SHARE
        condition = forum.community_conditions[community]
        forum.t_community.append(community)
        forum.t_question.append(question)
        # Skewed toward each community's first members: a few regulars start most topics.
        forum.t_author.append(members[int(len(members) * rng.random() ** 2)])
        title_templates = vocab.QUESTION_TITLES if question else vocab.UPDATE_TITLES
        forum.t_title.append(_fill(rng.choice(title_templates), condition, rng)[:200])
        # Lognormal thread sizes: most topics get a handful of replies, ~1.5 % get 50 or more.
        no_reply = question and rng.random() < UNREPLIED_QUESTION_SHARE
        spread.append(0.0 if no_reply else rng.lognormvariate(0.0, 1.0))
    # Topics in creation order: ids then follow time, as they would in production.
    forum.t_created = sorted(now - (HISTORY_DAYS * rng.random() + 1 / 24) * DAY for _ in range(targets.topics))
    replies_total = targets.posts - targets.topics
    scale = replies_total / (sum(spread) or 1.0)
    forum.t_replies = [int(w * scale) for w in spread]
    candidates = [i for i, w in enumerate(spread) if w > 0] or list(range(targets.topics))
    for _ in range(replies_total - sum(forum.t_replies)):
        forum.t_replies[rng.choice(candidates)] += 1


def _load_posts(cur: Any, forum: Forum, targets: Targets, rng: random.Random) -> int:
    """Opening posts and replies topic by topic (ids in time order), collecting reactions and follows."""
    now = time.time()
    check = _html_checker()
    with_replies = sum(1 for q, n in zip(forum.t_question, forum.t_replies, strict=True) if q and n)
    questions = sum(forum.t_question)
    answer_probability = min(1.0, ANSWERED_SHARE * questions / with_replies) if with_replies else 0.0
    columns = (
        "id", "topic_id", "author_id", "is_opening", "quoted_post_id", "body_markdown", "body_html", "created_at",
        "edit_count", "helpful_count", "same_here_count", "support_count",
    )  # fmt: skip
    member_ids = forum.member_ids
    reactions = forum.reactions
    subscriptions = forum.subscriptions

    def rows() -> Iterator[tuple[Any, ...]]:
        post_id = 0
        random_ = rng.random
        for topic in range(targets.topics):
            topic_id = topic + 1
            community = forum.t_community[topic]
            members = forum.community_members[community]
            pools = forum.pools[community]
            author = forum.t_author[topic]
            at = forum.t_created[topic]
            topic_reactions = 0
            opening_id = post_id + 1
            subscribers = {author}
            subscriptions.append((topic_id, author, "watching", at))
            greeting_name = forum.member_names[author].split(" ")[0]
            for position in range(forum.t_replies[topic] + 1):
                post_id += 1
                if position == 0:
                    poster = author
                    md, markup = _body(
                        pools.question if forum.t_question[topic] else pools.update, 2 + rng.randrange(2), 3, rng
                    )
                    quoted = None
                else:
                    # Replies come hours apart, slowing down as the thread ages; never in the future.
                    at = min(now, at + rng.expovariate(1.0 / (3600 * 6 * (1 + position / 10))))
                    poster = members[int(len(members) * random_() ** 1.5)]
                    greets = poster != author and random_() < 0.3
                    greeting = rng.choice(vocab.GREETINGS).format(name=greeting_name) if greets else ""
                    md, markup = _body(pools.reply, 1 + rng.randrange(2), 3, rng, greeting)
                    quoted = opening_id + rng.randrange(position) if random_() < 0.05 else None
                    if poster not in subscribers:  # replying subscribes, as communities.services does
                        subscribers.add(poster)
                        subscriptions.append((topic_id, poster, "tracking", at))
                counts = [0, 0, 0]
                draw = random_()
                wanted = 0 if draw < 0.78 else 1 if draw < 0.90 else 2 if draw < 0.95 else 3 if draw < 0.98 else 6
                seen: set[tuple[int, int]] = set()
                for _ in range(wanted):
                    reactor, kind = members[rng.randrange(len(members))], rng.randrange(3)
                    if (reactor, kind) in seen:
                        continue  # one reaction of a kind per member and post
                    seen.add((reactor, kind))
                    counts[kind] += 1
                    reactions.append((post_id, reactor, kind, min(now, at + random_() * DAY)))
                topic_reactions += len(seen)
                if forum.html_checked < 200 or post_id % 50_000 == 0:
                    check(forum, md, markup)
                yield (post_id, topic_id, member_ids[poster], position == 0, quoted, md, markup, _ts(at), 0, *counts)
            forum.t_last_activity.append(at)
            forum.t_reaction_count.append(topic_reactions)
            replies = forum.t_replies[topic]
            answered = forum.t_question[topic] and replies and random_() < answer_probability
            # The accepted answer is usually one of the first replies.
            forum.t_answer.append(opening_id + 1 + min(replies - 1, int(rng.expovariate(0.5))) if answered else None)

    # Staged, then written once with its search vector by _insert_posts (an UPDATE afterwards would
    # write every post twice and leave the table twice its size).
    cur.execute(f"CREATE TEMP TABLE {POST_STAGE} (LIKE communities_post INCLUDING DEFAULTS) ON COMMIT DROP")
    # The stage has no model of its own: it takes communities_post's defaults for the columns left out.
    extra_columns, extra_values = _model_defaults("communities_post", columns)
    forum.post_columns = (*columns, *extra_columns)
    return _copy(cur, POST_STAGE, forum.post_columns, ((*row, *extra_values) for row in rows()))


def _insert_posts(cur: Any, forum: Forum) -> int:
    """Staged posts into communities_post with the vector the services would write (communities/search.py)."""
    from communities.search import POST_VECTOR_SQL, SEARCH_CONFIG

    columns = ", ".join(forum.post_columns)
    selected = ", ".join(f"post.{name}" for name in forum.post_columns)
    cur.execute(
        f"INSERT INTO communities_post ({columns}, community_id, topic_kind, topic_answered, search_vector) "
        f"SELECT {selected}, topic.community_id, topic.kind, topic.answer_id IS NOT NULL, {POST_VECTOR_SQL} "
        f"FROM {POST_STAGE} AS post JOIN communities_topic AS topic ON topic.id = post.topic_id ORDER BY post.id",
        {"config": SEARCH_CONFIG},
    )
    return int(cur.rowcount)


def _index_vocabulary(cur: Any) -> int:
    """The "did you mean" vocabulary, by the statement the services use (communities/search.py)."""
    from communities.search import VOCABULARY_CONFIG, VOCABULARY_REBUILD_SQL

    # Statistics first: without them the planner joins a community's posts to its topics by a nested loop
    # over freshly loaded tables (minutes per community instead of seconds).
    cur.execute("ANALYZE communities_post, communities_topic")
    cur.execute("SELECT id FROM communities_community ORDER BY id")
    count = 0
    for (community_id,) in cur.fetchall():
        cur.execute(VOCABULARY_REBUILD_SQL, {"vocab": VOCABULARY_CONFIG, "community": community_id})
        count += int(cur.rowcount)
    return count


def _html_checker() -> Callable[[Forum, str, str], None]:
    """Compare a sample of generated HTML with the application's renderer, when it is importable."""
    try:
        from communities.markdown import render_markdown
    except ImportError:
        return lambda forum, md, markup: None

    def check(forum: Forum, md: str, markup: str) -> None:
        forum.html_checked += 1
        expected = render_markdown(md)
        if expected != markup:
            raise AssertionError(f"generated HTML differs from render_markdown:\n{markup!r}\n{expected!r}")

    return check


def _load_topics(cur: Any, forum: Forum) -> int:
    member_ids = forum.member_ids

    def rows() -> Iterator[tuple[Any, ...]]:
        for topic in range(len(forum.t_replies)):
            yield (
                topic + 1, forum.t_community[topic] + 1, "question" if forum.t_question[topic] else "update",
                forum.t_title[topic], member_ids[forum.t_author[topic]], _ts(forum.t_created[topic]),
                _ts(forum.t_last_activity[topic]), forum.t_replies[topic], forum.t_reaction_count[topic],
                forum.t_answer[topic],
            )  # fmt: skip

    columns = ("id", "community_id", "kind", "title", "author_id", "created_at", "last_activity_at", "reply_count",
               "reaction_count", "answer_id")  # fmt: skip
    return _copy(cur, "communities_topic", columns, rows())


def _load_topic_tags(cur: Any, forum: Forum, rng: random.Random) -> int:
    """0-3 tags per topic: a topic tag (70 %), a symptom (40 %), a treatment (30 %) of its community."""

    def rows() -> Iterator[tuple[int, int]]:
        for topic, community in enumerate(forum.t_community):
            tags = forum.community_tags[community]
            for kind, share in (("topic", 0.7), ("symptom", 0.4), ("treatment", 0.3)):
                if rng.random() < share:
                    yield (topic + 1, rng.choice(tags[kind]))

    return _copy(cur, "communities_topic_tags", ("topic_id", "tag_id"), rows())


def _index_search(cur: Any) -> int:
    """The topics' full-text vectors, by the statement the services use (communities/search.py)."""
    from communities.search import REFRESH_SQL, SEARCH_CONFIG

    cur.execute(REFRESH_SQL, {"config": SEARCH_CONFIG})
    return int(cur.rowcount)


def _load_reactions(cur: Any, forum: Forum) -> int:
    member_ids = forum.member_ids
    rows = ((post, member_ids[member], REACTION_KINDS[kind], _ts(at)) for post, member, kind, at in forum.reactions)
    return _copy(cur, "communities_reaction", ("post_id", "member_id", "kind", "created_at"), rows)


def _load_subscriptions(cur: Any, forum: Forum) -> int:
    member_ids = forum.member_ids
    rows = ((topic, member_ids[member], level, _ts(at)) for topic, member, level, at in forum.subscriptions)
    return _copy(cur, "communities_topicsubscription", ("topic_id", "member_id", "level", "updated_at"), rows)


# --- report ------------------------------------------------------------------------------------------------


def _database_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        return cur.fetchone()[0]


def _report(
    timings: list[Timing], forum: Forum, schema: str, seconds: float, disk_before: int, disk_after: int
) -> None:
    from django.db import connection

    print()
    print(f"{'step':<34} {'rows':>10} {'seconds':>8} {'rows/s':>10}")
    for t in timings:
        print(f"{t.table:<34} {t.rows:>10,} {t.seconds:>8.1f} {t.rows_per_s:>10,.0f}")
    posts = sum(forum.t_replies) + len(forum.t_replies)
    questions = sum(forum.t_question)
    answered = sum(1 for a in forum.t_answer if a is not None)
    biggest = max(forum.t_replies, default=0)
    print()
    print(f"total {seconds:.1f} s, {posts / seconds:,.0f} posts/s; target < {TARGET_S:.0f} s at full size")
    print(
        f"questions {questions:,} ({answered / max(1, questions):.0%} answered), "
        f"topics with >= 50 replies {sum(1 for n in forum.t_replies if n >= 50):,}, largest thread {biggest:,}"
    )
    print(f"HTML checked against render_markdown: {forum.html_checked} posts")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname LIKE 'communities\\_%%' ORDER BY 2 DESC LIMIT 6",
            [schema],
        )
        sizes = ", ".join(f"{name} {size / 2**20:,.0f} MB" for name, size in cur.fetchall())
    print(f"largest tables (with indexes and TOAST): {sizes}")
    print(
        f"database {disk_after / 2**20:,.0f} MB ({(disk_after - disk_before) / 2**20:+,.0f} MB this run); "
        f"data folder {_du(connection.settings_dict)}"
    )


def _du(settings: dict[str, Any]) -> str:
    """Size of the embedded server's data folder (WAL included), when there is one."""
    from config.embedded_db import data_dir

    if settings.get("ENGINE") != "config.embedded_backend":
        return "n/a (external server)"
    output = subprocess.run(["du", "-sh", str(data_dir())], capture_output=True, text=True, check=False).stdout
    return output.split()[0] if output else "?"


if __name__ == "__main__":
    main()
