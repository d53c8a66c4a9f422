"""What research holds about a member (privacy registry): the releases that included their data, the
exports they defined and the research audit rows naming them. Erasure removes the inclusion rows and
forgets the person in the audit (the audit row stays)."""

from __future__ import annotations

from typing import Any

from privacy.registry import register_disclosure, register_personal_data
from research.models import ReleaseInclusion, ResearchEvent, ResearchExport
from research.selectors import releases_including


def personal_data_of(member: Any) -> dict[str, Any]:
    return {
        "releases_including_my_data": releases_including(member=member),
        "research_actions": list(ResearchEvent.objects.filter(actor=member).values("created_at", "action", "channel")),
    }


def erase_member_data(member: Any, keep_posts: bool) -> None:
    ReleaseInclusion.objects.filter(member=member).delete()
    ResearchEvent.objects.filter(actor=member).update(actor=None)
    ResearchExport.objects.filter(created_by=member).update(created_by=None)


def register() -> None:
    register_personal_data(
        name="research",
        models=[ReleaseInclusion, ResearchEvent, ResearchExport],
        export=personal_data_of,
        erase=erase_member_data,
        schema="public",
        order=55,
    )
    register_disclosure(
        name="research-releases",
        heading="Research releases that included your data",
        description=(
            "De-identified datasets given to research partners under an agreement, while you consented to "
            "de-identified data sharing. Withdraw that consent and no later release includes you."
        ),
        rows=releases_including,
        empty="No research release has included your data.",
    )
