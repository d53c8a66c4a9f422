"""The three launch purposes, and the database's refusal to change or remove a ledger row."""

from __future__ import annotations

from typing import Any

from django.db import migrations

PURPOSES = [
    {
        "code": "research-data-sharing",
        "name": "Share de-identified data with research partners",
        "description": (
            "Your birth-year range, country and conditions, without your name, email or posts, may be "
            "included in datasets shared with research partners under a research agreement."
        ),
        "fhir_scope": "research",
        "act_reason": "HRESCH",
        "position": 10,
    },
    {
        "code": "research-contact",
        "name": "Be contacted by research partners about studies",
        "description": "Research partners may invite you, through Kindred, to take part in studies that fit you.",
        "fhir_scope": "research",
        "act_reason": "CLINTRCH",
        "position": 20,
    },
    {
        "code": "partner-newsletters",
        "name": "Partner newsletters",
        "description": "Partner organizations may send you their newsletters by email.",
        "fhir_scope": "patient-privacy",
        "act_reason": "HMARKT",
        "position": 30,
    },
]

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION public.consent_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_consentrecord is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER consent_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON public.consent_consentrecord
    FOR EACH ROW EXECUTE FUNCTION public.consent_ledger_append_only();
CREATE TRIGGER consent_ledger_no_truncate
    BEFORE TRUNCATE ON public.consent_consentrecord
    FOR EACH STATEMENT EXECUTE FUNCTION public.consent_ledger_append_only();
"""

DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS consent_ledger_no_truncate ON public.consent_consentrecord;
DROP TRIGGER IF EXISTS consent_ledger_no_update_delete ON public.consent_consentrecord;
DROP FUNCTION IF EXISTS public.consent_ledger_append_only();
"""


def seed_purposes(apps: Any, schema_editor: Any) -> None:
    purpose_model = apps.get_model("consent", "ConsentPurpose")
    for spec in PURPOSES:
        purpose_model.objects.get_or_create(code=spec["code"], defaults=spec)


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [
        migrations.RunPython(seed_purposes, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY_SQL, DROP_APPEND_ONLY_SQL),
    ]
