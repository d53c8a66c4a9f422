"""De-identified research exports. Every one passes the consent gate first (see research.exporters)."""

from __future__ import annotations

import datetime
from typing import Any

from consent.selectors import members_consenting_to
from research.exporters import register_exporter

BIRTH_YEAR_BAND = 5


def birth_year_band(year: int | None) -> str:
    """1983 → "1980-1984"; unknown stays empty."""
    if year is None:
        return ""
    start = year - year % BIRTH_YEAR_BAND
    return f"{start}-{start + BIRTH_YEAR_BAND - 1}"


@register_exporter("deidentified-members")
def export_deidentified_dataset(
    *, purpose_code: str = "research-data-sharing", at: datetime.datetime | None = None
) -> list[dict[str, Any]]:
    """One row per consenting member: consent pseudonym, birth-year band, country, condition MeSH ids.

    No email, name, region or database id leaves: the pseudonym is the ledger's, so a partner can
    cite the consent behind each row without learning who it is.
    """
    members = (
        members_consenting_to(purpose_code, at=at)
        .select_related("consent_subject")
        .prefetch_related("conditions")
        .order_by("consent_subject__pseudonym")
    )
    return [
        {
            "pseudonym": str(member.consent_subject.pseudonym),
            "birth_year_band": birth_year_band(member.birth_year),
            "country": str(member.country or ""),
            "conditions": sorted(condition.mesh_id for condition in member.conditions.all()),
        }
        for member in members
    ]
