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
The operation (``tenants.schema_operations``) reads pg_catalog: constraints whose referenced table
is in another namespace.

The template keeps no such constraint, so neither does any clone. A later migration that re-creates
one (a Wagtail upgrade altering a user field, a new model without ``db_constraint=False``) makes
``tests/tenants/test_cross_schema_keys.py`` fail: add a migration like this one after it.
Reversing is a no-op: the constraints are not re-created.
"""

from django.db import migrations

from tenants.schema_operations import DropCrossSchemaForeignKeys


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0004_member_keys_without_db_constraint"),
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

    operations = [DropCrossSchemaForeignKeys()]
