"""Reads over the community directory: public rows only, never a tenant schema."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import Case, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Lower
from django.http import HttpRequest

from conditions.models import Condition
from conditions.selectors import SHORT_QUERY_MAX, descendant_ids, search_conditions
from directory.models import DirectoryEntry
from tenants.models import Domain, Tenant, TenantKind
from tenants.selectors import host_url, tenant_path

MAX_LIMIT = 100
# How many taxonomy matches a free-text query may expand to before descendants are added: enough for
# "lymphoma" (a dozen kinds), few enough that a vague query cannot pull in half the taxonomy.
CONDITION_MATCHES = 20

# Rank of a result: tagged with a condition the query names, tagged with a narrower one, text only.
RANK_CONDITION, RANK_DESCENDANT, RANK_TEXT = 0, 1, 2

_Through = DirectoryEntry.conditions.through


def _tagged_with(ids: set[int]) -> Exists:
    # EXISTS rather than a join: an entry tagged with several matching conditions must appear once.
    return Exists(_Through.objects.filter(directoryentry_id=OuterRef("pk"), condition_id__in=ids))


def _text_match(query: str) -> Q:
    # Regexes (~*) rather than icontains (UPPER(col) LIKE ...) because the trigram indexes serve them;
    # re.escape makes the user's text literal, so it is never a pattern.
    literal = re.escape(query)
    if len(query) <= SHORT_QUERY_MAX:
        # The same rule as the taxonomy search: "MS" should not find every description that says
        # "symptoms", so a short query only matches the start of a word in the name (\m in PostgreSQL).
        return Q(name__iregex=rf"\m{literal}")
    return Q(name__iregex=literal) | Q(description__iregex=literal)


def _with_listing_data(entries: QuerySet[DirectoryEntry]) -> QuerySet[DirectoryEntry]:
    # Three queries for any number of results: entries with tenant, primary domains, conditions.
    # entry_url() reads the prefetched domain: Tenant.primary_domain would query once per row.
    return entries.select_related("tenant").prefetch_related(
        Prefetch("tenant__domains", queryset=Domain.objects.filter(is_primary=True), to_attr="primary_domains"),
        Prefetch("conditions", queryset=Condition.objects.order_by("name")),
    )


def search_directory(
    *,
    query: str = "",
    condition_ids: Iterable[int] | None = None,
    tenant: Tenant | None = None,
    limit: int = 50,
) -> list[DirectoryEntry]:
    """Listed communities of partner tenants matching ``query`` and ``condition_ids``, best first.

    ``query`` matches a condition by name, synonym or MeSH id (and so every community tagged with it or a
    narrower condition) or the community's own name or description. ``condition_ids`` keeps only
    communities tagged with one of them or a descendant. ``tenant`` narrows to one partner's communities.
    With neither query nor conditions the whole directory is listed by name.
    """
    limit = max(0, min(limit, MAX_LIMIT))
    if limit == 0:
        return []
    entries = DirectoryEntry.objects.filter(tenant__kind=TenantKind.PARTNER, tenant__listed=True)
    if tenant is not None:
        entries = entries.filter(tenant=tenant)
    if condition_ids is not None:
        wanted = descendant_ids(condition_ids=condition_ids)
        if not wanted:
            return []
        entries = entries.filter(_tagged_with(wanted))

    ordering: list[str | Combinable]
    needle = " ".join(query.split())
    if needle:
        named = {condition.pk for condition in search_conditions(query=needle, limit=CONDITION_MATCHES)}
        narrower = descendant_ids(condition_ids=named) - named if named else set()
        tiers = [(RANK_CONDITION, named), (RANK_DESCENDANT, narrower)]
        whens = [When(_tagged_with(ids), then=Value(rank)) for rank, ids in tiers if ids]
        whens.append(When(_text_match(needle), then=Value(RANK_TEXT)))
        entries = entries.annotate(rank=Case(*whens, default=None, output_field=IntegerField())).filter(
            rank__isnull=False
        )
        ordering = ["rank", Lower("name"), Lower("tenant__name"), "pk"]
    else:
        ordering = [Lower("name"), Lower("tenant__name"), "pk"]
    return list(_with_listing_data(entries.order_by(*ordering))[:limit])


def entry_url(*, entry: DirectoryEntry, request: HttpRequest | None = None) -> str:
    """The community's page on its partner's primary domain (from an entry returned by search_directory)."""
    tenant = entry.tenant
    domains = getattr(tenant, "primary_domains", None)
    if domains is None:  # not from search_directory: one query is fine for a single entry
        domains = list(Domain.objects.filter(tenant=tenant, is_primary=True))
    host = domains[0].domain if domains else ""
    path = tenant_path("community-detail", kwargs={"slug": entry.community_slug})
    return host_url(host=host, request=request, path=path)
