"""A starting list of crisis language, editable by each tenant's moderators (communities.crisis)."""

from typing import Any

from django.db import migrations

HIGH, MEDIUM, LOW = 3, 2, 1
TERMS = [
    ("kill myself", HIGH), ("end my life", HIGH), ("want to die", HIGH), ("suicide", HIGH), ("suicidal", HIGH),
    ("take all my pills", HIGH), ("overdose", HIGH), ("end it all", HIGH),
    ("hurt myself", MEDIUM), ("self harm", MEDIUM), ("self-harm", MEDIUM), ("no reason to live", MEDIUM),
    ("can't go on", MEDIUM), ("chest pain", MEDIUM), ("can't breathe", MEDIUM), ("better off without me", MEDIUM),
    ("hopeless", LOW), ("no way out", LOW), ("give up on everything", LOW),
]  # fmt: skip


def seed(apps: Any, schema_editor: Any) -> None:
    term = apps.get_model("communities", "CrisisTerm")
    for phrase, risk in TERMS:
        term.objects.get_or_create(phrase=phrase, defaults={"risk": risk})


class Migration(migrations.Migration):
    dependencies = [("communities", "0011_crisis_terms_and_on_call")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
