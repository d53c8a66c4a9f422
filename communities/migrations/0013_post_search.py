"""Post-level search: a vector on every post, backfilled here, then kept by the services."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0012_seed_crisis_terms'),
    ]

    operations = [
        # Already installed database-wide by the trials app; the vocabulary's trigram index needs it.
        TrigramExtension(),
        migrations.AddField(
            model_name='post',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        # The same statement as communities.search.POST_REFRESH_SQL at the time of writing (frozen here).
        migrations.RunSQL(
            """
            UPDATE communities_post AS post SET search_vector = CASE WHEN post.deleted_at IS NOT NULL THEN NULL ELSE
                CASE WHEN post.is_opening THEN
                    setweight(to_tsvector('english', coalesce(topic.title, '')), 'A')
                    || setweight(to_tsvector('english', coalesce((
                        SELECT string_agg(tag.name, ' ') FROM communities_topic_tags AS link
                        JOIN communities_tag AS tag ON tag.id = link.tag_id WHERE link.topic_id = topic.id AND tag.status = 'curated'
                    ), '')), 'B')
                ELSE ''::tsvector END
                || to_tsvector('english', post.body_markdown) END
            FROM communities_topic AS topic WHERE topic.id = post.topic_id
            """,
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name='post',
            index=django.contrib.postgres.indexes.GinIndex(fields=['search_vector'], name='post_search'),
        ),
    ]
