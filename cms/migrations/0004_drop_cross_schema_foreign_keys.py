"""Drop every foreign-key constraint of this tenant schema that points into another schema.

Every tenant schema references public rows (``members_member`` above all: Wagtail's page owners,
revisions, locks, workflow states, log entries, uploads; ``access``'s group and permission links;
the many-to-many tables to ``conditions_condition``). Each such constraint adds two referential
triggers to the one public table it points at, so with 1,000 tenants a member insert or delete
fired thousands of triggers and every clone's ALTERs queued behind locks on that table. Our own
models declare ``db_constraint=False`` (communities 0018, cms 0003); the third-party ones cannot,
so their constraints are dropped here, in each tenant schema, after all of their migrations.
Django still applies ``on_delete`` in Python, and ``privacy.services`` erases members through
every schema and checks that no reference is left (``privacy.selectors.remaining_member_references``).

The template keeps no such constraint, so neither does any clone. A later migration that re-creates
one (a Wagtail upgrade altering a user field, a new model without ``db_constraint=False``) makes
``tests/tenants/test_cross_schema_keys.py`` fail: add a migration like this one after it.
Reversing is a no-op: the constraints are not re-created.
"""

from django.db import migrations

DROP_CROSS_SCHEMA_FOREIGN_KEYS = """
DO $$
DECLARE
    here oid := (SELECT oid FROM pg_namespace WHERE nspname = current_schema());
    fk record;
BEGIN
    IF current_schema() = 'public' THEN
        RETURN;
    END IF;
    FOR fk IN
        SELECT cl.relname AS table_name, con.conname AS constraint_name
        FROM pg_constraint con
        JOIN pg_class cl ON cl.oid = con.conrelid
        JOIN pg_class ref ON ref.oid = con.confrelid
        WHERE con.contype = 'f' AND cl.relnamespace = here AND ref.relnamespace <> here
        ORDER BY 1, 2
    LOOP
        EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', current_schema(), fk.table_name, fk.constraint_name);
    END LOOP;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_member_keys_without_db_constraint"),
        ("communities", "0018_member_keys_without_db_constraint"),
        ("access", "0002_initial"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailembeds", "0009_embed_cache_until"),
        ("wagtailforms", "0005_alter_formsubmission_form_data"),
        ("wagtailimages", "0027_image_description"),
        ("wagtailredirects", "0008_add_verbose_name_plural"),
        ("wagtailsearch", "0010_add_text_fields"),
        ("wagtailusers", "0015_userprofile_keyboard_shortcuts"),
    ]

    operations = [migrations.RunSQL(DROP_CROSS_SCHEMA_FOREIGN_KEYS, reverse_sql=migrations.RunSQL.noop)]
