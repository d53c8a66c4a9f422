"""What consent holds about a member (privacy registry): the decision history is exported; erasure
detaches the member from the ledger, which keeps only the pseudonym, the decisions and their dates
(what the law asks a controller to be able to show), and forgets them as a policy's publisher."""

from __future__ import annotations

from consent import selectors, services
from consent.models import ConsentPolicy, ConsentSubject
from members.models import Member
from privacy.registry import register_personal_data


def export_member_data(member: Member) -> list[dict[str, object]]:
    return selectors.consent_history_for(member=member)


def erase_member_data(member: Member, keep_posts: bool) -> None:
    services.detach_member(member=member)
    services.forget_policy_publisher(member=member)


def register() -> None:
    register_personal_data(
        name="consent",
        models=[ConsentSubject, ConsentPolicy],
        export=export_member_data,
        erase=erase_member_data,
        schema="public",
        order=50,
    )
