"""API tokens in a member's data export and erasure (privacy registry)."""

from __future__ import annotations

from typing import Any

from apitokens.models import ApiToken, ApiTokenEvent, ServiceAccount
from apitokens.services import erase_member_tokens
from members.models import Member
from privacy.registry import register_personal_data


def export_tokens(member: Member) -> list[dict[str, Any]]:
    # Never the digest: it is not the member's data and only helps someone guess.
    return [
        {
            "site": token.tenant.name,
            "name": token.name,
            "prefix": token.prefix,
            "kind": token.kind,
            "scopes": token.scopes,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at,
        }
        for token in ApiToken.objects.filter(member_id=member.pk).select_related("tenant")
    ]


def register() -> None:
    register_personal_data(
        name="apitokens",
        models=[ApiToken, ApiTokenEvent, ServiceAccount],
        export=export_tokens,
        erase=lambda member, keep_posts: erase_member_tokens(member=member),
        schema="public",
        order=50,
    )
