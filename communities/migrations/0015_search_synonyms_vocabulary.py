"""The partner's search synonyms and the per-community vocabulary behind "did you mean" (pg_trgm),
filled here from the posts (the services add new words as they are written)."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models

VOCABULARY_SQL = """
            INSERT INTO communities_searchterm (community_id, word, ndoc)
            SELECT topic.community_id, word.lexeme, count(*)
            FROM communities_post AS post
            JOIN communities_topic AS topic ON topic.id = post.topic_id
            CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple',
                post.body_markdown || ' ' || CASE WHEN post.is_opening THEN topic.title ELSE '' END))) AS word(lexeme)
            WHERE post.deleted_at IS NULL AND topic.deleted_at IS NULL AND word.lexeme ~ '^[a-z][a-z''-]{2,39}$'
            GROUP BY 1, 2
            """


def fill_vocabulary(apps, schema_editor):
    schema_editor.execute(VOCABULARY_SQL)


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0014_post_community'),
    ]

    operations = [
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
        migrations.RunPython(fill_vocabulary, migrations.RunPython.noop),
    ]
