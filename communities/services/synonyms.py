"""Search synonyms (the partner's own list; the condition taxonomy's synonyms come for free)."""

from __future__ import annotations

from collections.abc import Iterable

from communities.models import SearchSynonym
from communities.services.guards import _require_admin
from core.errors import InvalidInput
from members.models import Member
from tenants.models import Tenant

SYNONYM_TERM_MAX = 80
SYNONYM_TERMS_MAX = 10


def _clean_synonym_terms(terms: Iterable[str]) -> list[str]:
    cleaned: dict[str, str] = {}
    for term in terms:
        text = " ".join(str(term).replace("\x00", " ").split())
        if not text:
            continue
        if len(text) > SYNONYM_TERM_MAX:
            raise InvalidInput(
                f"Each word or phrase has at most {SYNONYM_TERM_MAX} characters.",
                code="synonym_too_long",
                details={"terms": [f"“{text[:20]}…” is too long."]},
            )
        if any(char in text for char in ',"'):
            raise InvalidInput(
                "Words and phrases cannot contain commas or quotes.",
                code="synonym_invalid",
                details={"terms": ["Remove commas and quotes."]},
            )
        cleaned.setdefault(text.lower(), text)
    if len(cleaned) < 2:
        raise InvalidInput(
            "Give at least two different words or phrases that mean the same.",
            code="synonym_too_few",
            details={"terms": ["At least two."]},
        )
    if len(cleaned) > SYNONYM_TERMS_MAX:
        raise InvalidInput(
            f"A group has at most {SYNONYM_TERMS_MAX} words or phrases.",
            code="synonym_too_many",
            details={"terms": [f"At most {SYNONYM_TERMS_MAX}."]},
        )
    return list(cleaned.values())


def create_search_synonym(*, acting_member: Member, tenant: Tenant, terms: Iterable[str]) -> SearchSynonym:
    """Tenant admins add a group of words that search treats as the same ("MTX", "methotrexate")."""
    _require_admin(acting_member, tenant)
    return SearchSynonym.objects.create(terms=_clean_synonym_terms(terms))


def update_search_synonym(
    *, acting_member: Member, tenant: Tenant, synonym: SearchSynonym, terms: Iterable[str]
) -> SearchSynonym:
    _require_admin(acting_member, tenant)
    synonym.terms = _clean_synonym_terms(terms)
    synonym.save(update_fields=["terms", "updated_at"])
    return synonym


def delete_search_synonym(*, acting_member: Member, tenant: Tenant, synonym: SearchSynonym) -> None:
    _require_admin(acting_member, tenant)
    synonym.delete()
