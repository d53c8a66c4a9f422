"""Full-text search over topics (PostgreSQL text search in the tenant's schema).

Each topic keeps a ``search_vector``: its title (weight A), its curated tags' names (B) and its opening post
(C, left out while the opening post is removed, so removed words are not findable). The services
refresh it in the same transaction as every write that changes one of those, with the one statement
below, which also backfills any number of topics at once (migration, bench generator).

Queries use ``websearch_to_tsquery`` (quoted phrases, ``or``, ``-word``) and the English stemmer, so
"infusions" finds "infusion"; a GIN index answers them without reading the posts.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

SEARCH_CONFIG = "english"

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


def refresh_search_vectors(*, topic_ids: Iterable[int] | None = None) -> int:
    """Recompute the search vector of these topics (all topics of the current schema when None)."""
    with connection.cursor() as cursor:
        if topic_ids is None:
            cursor.execute(REFRESH_SQL, {"config": SEARCH_CONFIG})
        else:
            ids = sorted(set(topic_ids))
            if not ids:
                return 0
            cursor.execute(REFRESH_SQL + " WHERE topic.id = ANY(%(ids)s)", {"config": SEARCH_CONFIG, "ids": ids})
        return cursor.rowcount
