from __future__ import annotations

from typing import Any

from django.db import migrations


def load_taxonomy(apps: Any, schema_editor: Any) -> None:
    # Same upsert as the load_conditions command, against the historical model, so every fresh
    # database starts with the taxonomy. Tenant schemas skip this: the router keeps conditions public.
    from conditions.services import read_taxonomy, upsert_taxonomy

    condition = apps.get_model("conditions", "Condition")
    upsert_taxonomy(model=condition, entries=read_taxonomy(), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("conditions", "0001_initial")]

    operations = [migrations.RunPython(load_taxonomy, migrations.RunPython.noop)]
