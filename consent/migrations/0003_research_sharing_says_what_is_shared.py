"""The data-sharing purpose says what a research release really holds (issue 13's exports carry
age band, sex, region, role, conditions and scrubbed post texts), not the narrower launch wording.

A deployment whose members consented under the old wording publishes a policy version that marks
``research-data-sharing`` as a material change, so they are asked again (docs/security-model.md).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

CODE = "research-data-sharing"
OLD = (
    "Your birth-year range, country and conditions, without your name, email or posts, may be "
    "included in datasets shared with research partners under a research agreement."
)
NEW = (
    "Your age band, sex, region, role and conditions, and the words of your posts with names, contact "
    "details and other identifiers taken out, may be included in datasets shared with research partners "
    "under a research agreement; never your name, email or account, and only in groups large enough "
    "that you can't be picked out."
)


def _describe(description: str) -> Any:
    def apply(apps: Any, schema_editor: Any) -> None:
        apps.get_model("consent", "ConsentPurpose").objects.filter(code=CODE).update(description=description)

    return apply


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_seed_purposes_and_append_only_ledger")]

    operations = [migrations.RunPython(_describe(NEW), _describe(OLD))]
