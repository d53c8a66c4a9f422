"""Posts carry their topic's kind and answered state (kept by the services), for search's filters;
a BRIN index on post ids for search's newest-posts range."""

import django.contrib.postgres.indexes
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0016_safety_trust_slow_mode'),
    ]

    operations = [
        migrations.AddField(
            model_name='post',
            name='topic_kind',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=8),
        ),
        migrations.AddField(
            model_name='post',
            name='topic_answered',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.RunSQL(
            "UPDATE communities_post AS post SET topic_kind = topic.kind, topic_answered = topic.answer_id IS NOT NULL "
            "FROM communities_topic AS topic WHERE topic.id = post.topic_id",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name='post',
            index=django.contrib.postgres.indexes.BrinIndex(fields=['id'], name='post_id_brin', pages_per_range=8),
        ),
    ]
