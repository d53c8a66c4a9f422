"""Post-level search: a vector on every post (backfilled here, then kept by the services), the
partner's synonym list, and the per-community vocabulary behind "did you mean" (pg_trgm)."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.contrib.postgres.operations import TrigramExtension
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0005_trial_discussions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Already installed database-wide by the trials app; harmless here, and needed before the
        # trigram index below if this schema migrates first.
        TrigramExtension(),
        migrations.CreateModel(
            name='SearchSynonym',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('terms', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=80), help_text='Two or more words or phrases that mean the same.', size=None)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='SearchTerm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('word', models.CharField(max_length=60)),
                ('ndoc', models.PositiveIntegerField(default=0)),
            ],
        ),
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
                        JOIN communities_tag AS tag ON tag.id = link.tag_id WHERE link.topic_id = topic.id
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
        migrations.AddIndex(
            model_name='searchsynonym',
            index=django.contrib.postgres.indexes.GinIndex(fields=['terms'], name='synonym_terms'),
        ),
        migrations.AddField(
            model_name='searchterm',
            name='community',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='communities.community'),
        ),
        migrations.AddIndex(
            model_name='searchterm',
            index=django.contrib.postgres.indexes.GinIndex(fields=['word'], opclasses=['gin_trgm_ops'], name='search_term_trgm'),
        ),
        migrations.AddConstraint(
            model_name='searchterm',
            constraint=models.UniqueConstraint(fields=('community', 'word'), name='one_search_term_per_community'),
        ),
        migrations.RunSQL(
            """
            INSERT INTO communities_searchterm (community_id, word, ndoc)
            SELECT topic.community_id, word.lexeme, count(*)
            FROM communities_post AS post
            JOIN communities_topic AS topic ON topic.id = post.topic_id
            CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple',
                post.body_markdown || ' ' || CASE WHEN post.is_opening THEN topic.title ELSE '' END))) AS word(lexeme)
            WHERE post.deleted_at IS NULL AND topic.deleted_at IS NULL AND word.lexeme ~ '^[a-z][a-z''-]{2,39}$'
            GROUP BY 1, 2
            """,
            migrations.RunSQL.noop,
        ),
    ]
