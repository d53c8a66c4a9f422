"""Full-text search in the tenant's schema: the index upkeep, the query language and safe snippets.

Two indexes, both PostgreSQL ``tsvector`` columns with a GIN index, both kept by the services in the
same transaction as every write that changes them (so the next query sees a new, edited or removed
post), and both backfilled by their migration:

* ``Topic.search_vector``: title (A), curated tag names (B), opening post (C); the older topic-level search.
* ``Post.search_vector``: every post's body; an opening post also carries its topic's title (A) and
  curated tags (B; a proposed tag is not public until a moderator approves it), so a title match
  ranks its topic first. NULL while the post is removed, so removed words are never findable,
  whatever the query.

The query language is what people know from web search: words (English stemming), "exact phrases",
``OR`` between words, ``-word`` to exclude, plus synonyms: the condition taxonomy's names and synonyms
and the partner's own list (``SearchSynonym``). Parsing never fails: any text (operators only,
unbalanced quotes, NUL bytes, 10,000 characters) becomes a query, possibly an empty one.

Snippets come from ``ts_headline`` with control characters as markers; ``render_snippet`` escapes the
whole text and only then turns markers into ``<mark>``, so members' words can never inject HTML.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from members.selectors import member_by_local_id
from tenants.models import Tenant

SEARCH_CONFIG = "english"
# The words of the "did you mean" vocabulary are unstemmed: a suggestion must be a real word.
VOCABULARY_CONFIG = "simple"

REFRESH_SQL = """
UPDATE communities_topic AS topic SET search_vector =
    setweight(to_tsvector(%(config)s::regconfig, coalesce(topic.title, '')), 'A')
    || setweight(to_tsvector(%(config)s::regconfig, coalesce((
        SELECT string_agg(tag.name, ' ') FROM communities_topic_tags AS link
        JOIN communities_tag AS tag ON tag.id = link.tag_id
        WHERE link.topic_id = topic.id AND tag.status = 'curated'
    ), '')), 'B')
    || setweight(to_tsvector(%(config)s::regconfig, coalesce((
        SELECT post.body_markdown FROM communities_post AS post
        WHERE post.topic_id = topic.id AND post.is_opening AND post.deleted_at IS NULL
        ORDER BY post.id LIMIT 1
    ), '')), 'C')
"""

# A post's vector, over a row aliased ``post`` and its topic aliased ``topic`` (parameter: config).
POST_VECTOR_SQL = """
CASE WHEN post.deleted_at IS NOT NULL THEN NULL ELSE
    CASE WHEN post.is_opening THEN
        setweight(to_tsvector(%(config)s::regconfig, coalesce(topic.title, '')), 'A')
        || setweight(to_tsvector(%(config)s::regconfig, coalesce((
            SELECT string_agg(tag.name, ' ') FROM communities_topic_tags AS link
            JOIN communities_tag AS tag ON tag.id = link.tag_id
            WHERE link.topic_id = topic.id AND tag.status = 'curated'
        ), '')), 'B')
    ELSE ''::tsvector END
    || to_tsvector(%(config)s::regconfig, post.body_markdown) END
"""

# One statement for one post, a thousand or all of them (migration, bench generator).
POST_REFRESH_SQL = (
    "UPDATE communities_post AS post SET search_vector = "  # noqa: S608 - fixed SQL
    + POST_VECTOR_SQL
    + " FROM communities_topic AS topic WHERE topic.id = post.topic_id"
)

# New words join the vocabulary as they are published; existing rows are not touched (no row locks on
# common words, so concurrent posts never wait on each other). Counts are rebuilt by
# rebuild_search_vocabulary (Celery beat, communities.tasks.rebuild_search_vocabularies), which also
# drops the words of removed posts. Only published words: a held or hidden post's words are never
# suggested to anyone.
_VOCABULARY_WORDS_SQL = """
SELECT topic.community_id, word.lexeme, count(*)
FROM communities_post AS post
JOIN communities_topic AS topic ON topic.id = post.topic_id
CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(%(vocab)s::regconfig,
    post.body_markdown || ' ' || CASE WHEN post.is_opening THEN topic.title ELSE '' END))) AS word(lexeme)
WHERE post.deleted_at IS NULL AND topic.deleted_at IS NULL AND post.status = 'published'
    AND topic.status = 'published' AND word.lexeme ~ '^[a-z][a-z''-]{2,39}$'
"""
VOCABULARY_ADD_SQL = (
    "INSERT INTO communities_searchterm (community_id, word, ndoc) "
    + _VOCABULARY_WORDS_SQL
    + " AND post.id = ANY(%(ids)s) GROUP BY 1, 2 ORDER BY 1, 2 ON CONFLICT (community_id, word) DO NOTHING"
)
# Per community, with ts_stat (one pass in C over the community's posts); parameters: vocab, community.
VOCABULARY_REBUILD_SQL = """
INSERT INTO communities_searchterm (community_id, word, ndoc)
SELECT %(community)s, stat.word, stat.ndoc FROM ts_stat(format(
    'SELECT to_tsvector(%%L::regconfig, post.body_markdown || '' '' || '
    'CASE WHEN post.is_opening THEN topic.title ELSE '''' END) '
    'FROM communities_post AS post JOIN communities_topic AS topic ON topic.id = post.topic_id '
    'WHERE post.community_id = %%s AND post.deleted_at IS NULL AND topic.deleted_at IS NULL '
    'AND post.status = ''published'' AND topic.status = ''published''',
    %(vocab)s, %(community)s)) AS stat
WHERE stat.word ~ '^[a-z][a-z''-]{2,39}$'
"""


def refresh_search_vectors(*, topic_ids: Iterable[int] | None = None) -> int:
    """Recompute the search vectors of these topics and of their opening posts (title and tags live in
    both); with None, every topic of the current schema (and no post)."""
    with connection.cursor() as cursor:
        if topic_ids is None:
            # Topics only: migration 0004 calls this before posts have a vector (index_posts does those).
            cursor.execute(REFRESH_SQL, {"config": SEARCH_CONFIG})
            return cursor.rowcount
        ids = sorted(set(topic_ids))
        if not ids:
            return 0
        cursor.execute(REFRESH_SQL + " WHERE topic.id = ANY(%(ids)s)", {"config": SEARCH_CONFIG, "ids": ids})
        count = cursor.rowcount
        cursor.execute(
            POST_REFRESH_SQL + " AND post.is_opening AND post.topic_id = ANY(%(ids)s)",
            {"config": SEARCH_CONFIG, "ids": ids},
        )
        opening_ids = [
            row[0]
            for row in _fetch(cursor, "SELECT id FROM communities_post WHERE is_opening AND topic_id = ANY(%s)", [ids])
        ]
        _add_vocabulary(cursor, opening_ids)
        return count


def index_posts(*, post_ids: Iterable[int] | None = None) -> int:
    """Recompute the search vector of these posts (all posts of the current schema when None) and add
    their new words to the "did you mean" vocabulary."""
    with connection.cursor() as cursor:
        if post_ids is None:
            cursor.execute(POST_REFRESH_SQL, {"config": SEARCH_CONFIG})
            return cursor.rowcount
        ids = sorted(set(post_ids))
        if not ids:
            return 0
        cursor.execute(POST_REFRESH_SQL + " AND post.id = ANY(%(ids)s)", {"config": SEARCH_CONFIG, "ids": ids})
        count = cursor.rowcount
        _add_vocabulary(cursor, ids)
        return count


def rebuild_search_vocabulary() -> int:
    """Recount the vocabulary of the current schema from the published posts that are not removed.

    One short transaction per community (readers never see an empty vocabulary, and a writer adding a
    word waits at most for one community's recount); words of communities that no longer exist go too.
    """
    count = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM communities_community ORDER BY id")
        community_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("DELETE FROM communities_searchterm WHERE NOT (community_id = ANY(%s))", [community_ids])
        for community_id in community_ids:
            with transaction.atomic():
                cursor.execute("DELETE FROM communities_searchterm WHERE community_id = %s", [community_id])
                cursor.execute(VOCABULARY_REBUILD_SQL, {"vocab": VOCABULARY_CONFIG, "community": community_id})
                count += cursor.rowcount
    return count


def _add_vocabulary(cursor: Any, post_ids: Sequence[int]) -> None:
    if post_ids:
        cursor.execute(VOCABULARY_ADD_SQL, {"vocab": VOCABULARY_CONFIG, "ids": list(post_ids)})


def _fetch(cursor: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())


# ---------------------------------------------------------------------------------------------
# The query language
# ---------------------------------------------------------------------------------------------

MAX_QUERY_CHARS = 300
MAX_UNITS = 12
MAX_ALTERNATIVES = 8
MAX_SYNONYM_WORDS = 4

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A quoted phrase (the closing quote may be missing: it then runs to the end), or a bare word.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD_CHARS = re.compile(r"[^\w'+-]+", re.UNICODE)


@dataclass(frozen=True)
class Unit:
    """One thing to look for: a word or a phrase, and what else means the same."""

    text: str
    phrase: bool = False
    alternatives: tuple[str, ...] = ()  # synonyms, not including ``text``


@dataclass
class ParsedQuery:
    """The query as understood: all ``groups`` must match (each group is a set of units of which one
    must match, from ``a OR b``), none of ``excluded`` may."""

    text: str
    groups: list[list[Unit]] = field(default_factory=list)
    excluded: list[Unit] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def plain_words(self) -> list[str]:
        """Positive single words, for "did you mean"."""
        return [unit.text for group in self.groups for unit in group if not unit.phrase]

    @property
    def positive_texts(self) -> list[str]:
        """What to look for, as typed (no synonyms): the words other sources (trials, resources) match."""
        return [unit.text for group in self.groups for unit in group]

    def to_search_query(self) -> SearchQuery | None:
        """The tsquery: each unit (and each synonym) as a phrase query, ANDed over groups."""
        if self.is_empty:
            return None
        combined: SearchQuery | None = None
        for group in self.groups:
            either: SearchQuery | None = None
            for unit in group:
                for text in (unit.text, *unit.alternatives):
                    term = SearchQuery(text, search_type="phrase", config=SEARCH_CONFIG)
                    either = term if either is None else either | term
            assert either is not None
            combined = either if combined is None else combined & either
        for unit in self.excluded:
            term = SearchQuery(unit.text, search_type="phrase", config=SEARCH_CONFIG)
            assert combined is not None
            combined = combined & ~term
        return combined

    def describe_synonyms(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(unit.text, unit.alternatives) for group in self.groups for unit in group if unit.alternatives]

    def replaced(self, words: dict[str, str]) -> str:
        """The query text with some words replaced (for "did you mean")."""
        out = self.text
        for old, new in words.items():
            out = re.sub(rf"(?<![\w-]){re.escape(old)}(?!\w)", new, out, flags=re.IGNORECASE)
        return out


def clean_query_text(text: str) -> str:
    """Drop NUL and other control characters, collapse spaces, keep at most MAX_QUERY_CHARS."""
    text = _CONTROL.sub(" ", text or "")
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def _clean_words(text: str) -> str:
    return " ".join(w.strip("'+-") for w in _WORD_CHARS.sub(" ", text).split() if w.strip("'+-"))


SynonymLookup = Callable[[Sequence[str]], dict[str, tuple[str, ...]]]


def parse_query(text: str, *, synonyms: SynonymLookup | None = None) -> ParsedQuery:
    """Parse a person's query. ``synonyms`` maps lower-cased words and phrases to what else they mean."""
    cleaned = clean_query_text(text)
    parsed = ParsedQuery(text=cleaned)
    # (negated, is_phrase, text) or None for OR
    tokens: list[tuple[bool, bool, str] | None] = []
    for match in _TOKEN.finditer(cleaned):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None:
            if bare.upper() == "OR" or bare == "|":
                tokens.append(None)
                continue
            neg = bare.startswith("-") and len(bare) > 1
            words = _clean_words(bare[1:] if neg else bare)
            if words:
                tokens.append((neg, " " in words, words))
        else:
            words = _clean_words(quoted or "")
            if words:
                tokens.append((bool(negated), True, words))
        if len(tokens) >= MAX_UNITS * 2:
            break

    # Runs of consecutive plain words may form a known multi-word synonym ("multiple sclerosis").
    candidates: set[str] = set()
    plain_runs: list[list[str]] = []
    run: list[str] = []
    for token in [*tokens, None]:
        if token is not None and not token[0] and not token[1]:
            run.append(token[2])
            continue
        if run:
            plain_runs.append(run)
            run = []
    for run in plain_runs:
        for size in range(1, MAX_SYNONYM_WORDS + 1):
            for start in range(0, len(run) - size + 1):
                candidates.add(" ".join(run[start : start + size]).lower())
    for token in tokens:
        if token is not None and token[1]:
            candidates.add(token[2].lower())
    known = synonyms(sorted(candidates)) if (synonyms and candidates) else {}

    def unit_for(words: str, *, phrase: bool) -> Unit:
        alternatives = tuple(a for a in known.get(words.lower(), ()) if a.lower() != words.lower())
        return Unit(text=words, phrase=phrase or " " in words, alternatives=alternatives[:MAX_ALTERNATIVES])

    pending_or = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token is None:
            pending_or = bool(parsed.groups)
            index += 1
            continue
        negated, is_phrase, words = token
        if negated:
            parsed.excluded.append(Unit(text=words, phrase=is_phrase))
            pending_or = False
            index += 1
            continue
        # Greedy: the longest run of plain words starting here that is a known synonym.
        unit = unit_for(words, phrase=is_phrase)
        if not is_phrase:
            for size in range(MAX_SYNONYM_WORDS, 1, -1):
                window = tokens[index : index + size]
                if len(window) == size and all(t is not None and not t[0] and not t[1] for t in window):
                    joined = " ".join(t[2] for t in window if t is not None)
                    if joined.lower() in known:
                        unit = unit_for(joined, phrase=True)
                        index += size - 1
                        break
        if pending_or and parsed.groups:
            parsed.groups[-1].append(unit)
        else:
            parsed.groups.append([unit])
        pending_or = False
        index += 1
        if len(parsed.groups) + len(parsed.excluded) >= MAX_UNITS:
            break
    return parsed


# ---------------------------------------------------------------------------------------------
# Snippets
# ---------------------------------------------------------------------------------------------

# ts_headline wraps matches in these; no one types them, and render_snippet copes if someone did.
MARK_START = "\x02"
MARK_STOP = "\x03"
HEADLINE_MAX_WORDS = 28
HEADLINE_MIN_WORDS = 12
HEADLINE_FRAGMENTS = 2


def render_snippet(headline: str) -> SafeString:
    """Escape a ts_headline result, then turn its markers into balanced ``<mark>`` elements."""
    out: list[str] = []
    inside = False
    for piece in re.split(f"([{MARK_START}{MARK_STOP}])", headline or ""):
        if piece == MARK_START:
            if not inside:
                out.append("<mark>")
                inside = True
        elif piece == MARK_STOP:
            if inside:
                out.append("</mark>")
                inside = False
        elif piece:
            out.append(escape(_CONTROL.sub(" ", piece)))
    if inside:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above was escaped


# ---------------------------------------------------------------------------------------------
# Filters and sort, read from a query string the same way by the web page and the API
# ---------------------------------------------------------------------------------------------

SORT_RELEVANCE = "relevance"
SORT_NEWEST = "newest"
SORTS = (SORT_RELEVANCE, SORT_NEWEST)
STATUS_ANSWERED = "answered"
STATUS_UNANSWERED = "unanswered"
STATUSES = (STATUS_ANSWERED, STATUS_UNANSWERED)
# Query-string name -> tag kind ("tag" is the plain topic tag).
TAG_PARAMS = {"tag": "topic", "symptom": "symptom", "treatment": "treatment"}
MAX_TAG_FILTERS = 5
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,120}$")
_LOCAL_ID = re.compile(r"^[a-z2-7]{1,32}$")  # base32, as members.selectors.local_member_id makes them


UNKNOWN_AUTHOR = (
    "No member of this site has that id: use the member id this site shows with their posts "
    "(ids from other sites, or a member who left this site, name no one here)."
)


@dataclass(frozen=True)
class SearchFilters:
    community: str = ""
    kind: str = ""
    tags: tuple[tuple[str, str], ...] = ()  # (tag kind, tag slug), all must be on the topic
    status: str = ""
    after: datetime.date | None = None
    before: datetime.date | None = None
    # The author as this tenant names them (TenantMembership.local_id, the ``id`` of a post's author in
    # the API), never the platform's global id; ``author_member_id`` is who that is, found by
    # search_request_from, for the query only (it never appears in a page or a link).
    author: str = ""
    author_member_id: int | None = None

    def active(self) -> list[str]:
        """Names of the filters in use, in the order a page lists them."""
        names = [name for name in ("community", "kind", "status", "after", "before", "author") if getattr(self, name)]
        return names + [f"{kind}:{slug}" for kind, slug in self.tags]

    def without(self, name: str) -> SearchFilters:
        if ":" in name:
            return replace(self, tags=tuple(tag for tag in self.tags if f"{tag[0]}:{tag[1]}" != name))
        if name == "author":
            return replace(self, author="", author_member_id=None)
        if name in ("after", "before"):
            return replace(self, **{name: None})  # type: ignore[arg-type]
        return replace(self, **{name: ""})  # type: ignore[arg-type]

    def as_params(self) -> list[tuple[str, str]]:
        params = [
            (name, str(getattr(self, name)))
            for name in ("community", "kind", "status", "after", "before", "author")
            if getattr(self, name)
        ]
        by_kind = {kind: param for param, kind in TAG_PARAMS.items()}
        return params + [(by_kind[kind], slug) for kind, slug in self.tags]


@dataclass(frozen=True)
class SearchRequest:
    query: str = ""
    filters: SearchFilters = SearchFilters()
    sort: str = SORT_RELEVANCE
    page: int = 1
    errors: dict[str, list[str]] = field(default_factory=dict)


def _date(value: str, name: str, errors: dict[str, list[str]]) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        errors[name] = ["Use a date like 2025-01-31."]
        return None


def _author(value: str, *, tenant: Tenant, errors: dict[str, list[str]]) -> tuple[str, int | None]:
    """The author filter: a member of ``tenant`` named by their id on it (one indexed lookup)."""
    local_id = value.lower()
    if not local_id:
        return "", None
    membership = member_by_local_id(tenant=tenant, local_id=local_id) if _LOCAL_ID.match(local_id) else None
    if membership is None:
        errors["author"] = [UNKNOWN_AUTHOR]
        return "", None
    return local_id, membership.member_id


def search_request_from(params: Any, *, kinds: Sequence[str], tenant: Tenant) -> SearchRequest:
    """Read q, filters, sort and page from a QueryDict-like object. Bad values are dropped and listed
    in ``errors`` (the API refuses them, the page says what it ignored); nothing raises. The author
    is looked up among ``tenant``'s members by their id there."""
    errors: dict[str, list[str]] = {}

    def one(name: str) -> str:
        return clean_query_text(str(params.get(name, "") or ""))[:120].strip()

    kind = one("kind")
    if kind and kind not in kinds:
        errors["kind"] = [f"Kind is one of: {', '.join(kinds)}."]
        kind = ""
    status = one("status")
    if status and status not in STATUSES:
        errors["status"] = [f"Status is one of: {', '.join(STATUSES)}."]
        status = ""
    sort = one("sort") or SORT_RELEVANCE
    if sort not in SORTS:
        errors["sort"] = [f"Sort is one of: {', '.join(SORTS)}."]
        sort = SORT_RELEVANCE
    community = one("community")
    if community and not _SLUG.match(community):
        errors["community"] = ["Unknown community."]
        community = ""
    tags: list[tuple[str, str]] = []
    for param, tag_kind in TAG_PARAMS.items():
        values = params.getlist(param) if hasattr(params, "getlist") else [params.get(param, "")]
        for value in values:
            slug = clean_query_text(str(value or "")).strip()
            if not slug:
                continue
            if not _SLUG.match(slug):
                errors[param] = ["Unknown tag."]
                continue
            tags.append((tag_kind, slug.lower()))
    if len(tags) > MAX_TAG_FILTERS:
        errors["tag"] = [f"Filter by at most {MAX_TAG_FILTERS} tags."]
        tags = tags[:MAX_TAG_FILTERS]
    author, author_member_id = _author(one("author"), tenant=tenant, errors=errors)
    after, before = _date(one("after"), "after", errors), _date(one("before"), "before", errors)
    if after and before and after > before:
        errors["before"] = ["The end date is before the start date."]
        before = None
    try:
        page = max(1, min(int(one("page") or 1), 100))
    except ValueError:
        errors["page"] = ["A page is a number."]
        page = 1
    filters = SearchFilters(
        community=community,
        kind=kind,
        tags=tuple(dict.fromkeys(tags)),
        status=status,
        after=after,
        before=before,
        author=author,
        author_member_id=author_member_id,
    )
    query = clean_query_text(str(params.get("q", "") or ""))
    return SearchRequest(query=query, filters=filters, sort=sort, page=page, errors=errors)


# ---------------------------------------------------------------------------------------------
# Other sources on the search page (communities never import cms: cms joins this registry)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceHit:
    title: str
    url: str
    summary: str = ""


# (key, label, search(words=..., limit=...) -> hits)
ResourceSearch = Callable[..., list[SourceHit]]
_RESOURCE_SOURCES: list[tuple[str, str, ResourceSearch]] = []


def register_resource_source(key: str, label: str, search: ResourceSearch) -> None:
    """A higher app (cms) offers a tab of the search page: ``search(words=[...], limit=n)``."""
    if all(existing != key for existing, _, _ in _RESOURCE_SOURCES):
        _RESOURCE_SOURCES.append((key, label, search))


def resource_sources() -> list[tuple[str, str, ResourceSearch]]:
    return list(_RESOURCE_SOURCES)
