"""Writes to the community directory.

The communities app calls ``publish_community`` / ``withdraw_community`` whenever a community's listing
changes (created, renamed, re-tagged, made visible or hidden); ``rebuild_directory_for_tenant`` repairs a
tenant's whole listing in one go. All three take only the public facts (name, description, conditions,
visibility), so nothing else about a community can reach the directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from conditions.models import Condition
from core.errors import InvalidInput
from directory.models import DirectoryEntry, DirectoryVisibility
from tenants.models import Tenant, TenantKind


@dataclass(frozen=True)
class CommunityListing:
    """What a partner made public about one community; ``listed=False`` keeps it out of the directory."""

    slug: str
    name: str
    description: str = ""
    condition_ids: Iterable[int] = field(default_factory=tuple)
    visibility: str = DirectoryVisibility.MEMBERS_ONLY
    listed: bool = True


def _require_partner(tenant: Tenant) -> None:
    if tenant.kind != TenantKind.PARTNER:
        raise InvalidInput("Only partner tenants have communities in the directory.", code="not_a_partner")


def _clean(
    *, community_slug: str, name: str, description: str, condition_ids: Iterable[int], visibility: str
) -> tuple[str, str, str, set[int], str]:
    slug = (community_slug or "").strip()
    clean_name = " ".join((name or "").split())
    if not slug:
        raise InvalidInput("A directory entry needs the community's slug.", details={"community_slug": "required"})
    if not clean_name:
        raise InvalidInput("A directory entry needs the community's name.", details={"name": "required"})
    if visibility not in DirectoryVisibility.values:
        raise InvalidInput(f"Unknown visibility {visibility!r}.", details={"visibility": DirectoryVisibility.values})
    wanted = {int(pk) for pk in condition_ids}
    known = set(Condition.objects.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else set()
    if unknown := wanted - known:
        # A caller passing ids the taxonomy lacks has a bug; silently dropping them would hide it.
        raise InvalidInput("Unknown condition ids.", code="unknown_condition", details={"ids": sorted(unknown)})
    return slug, clean_name, (description or "").strip(), wanted, visibility


def _upsert(
    *, tenant: Tenant, slug: str, name: str, description: str, condition_ids: set[int], visibility: str
) -> DirectoryEntry:
    entry = DirectoryEntry.objects.select_for_update().filter(tenant=tenant, community_slug=slug).first()
    if entry is None:
        try:
            with transaction.atomic():
                entry = DirectoryEntry.objects.create(
                    tenant=tenant, community_slug=slug, name=name, description=description, visibility=visibility
                )
                entry.conditions.set(condition_ids)
                return entry
        except IntegrityError:
            # A concurrent publish of the same community created it first: update that row instead.
            entry = DirectoryEntry.objects.select_for_update().get(tenant=tenant, community_slug=slug)
    fields = {"name": name, "description": description, "visibility": visibility}
    changed = [attr for attr, value in fields.items() if getattr(entry, attr) != value]
    current_ids = set(entry.conditions.values_list("pk", flat=True))
    if current_ids != condition_ids:
        entry.conditions.set(condition_ids)
        changed.append("updated_at")
    if changed:
        # Only a real change bumps updated_at, so publishing the same listing twice leaves no trace.
        for attr, value in fields.items():
            setattr(entry, attr, value)
        entry.save(update_fields=sorted({*changed, "updated_at"}))
    return entry


def publish_community(
    *,
    tenant: Tenant,
    community_slug: str,
    name: str,
    description: str,
    condition_ids: Iterable[int],
    visibility: str,
) -> DirectoryEntry:
    """Create or update the directory entry of one community (idempotent)."""
    _require_partner(tenant)
    slug, clean_name, clean_description, wanted, clean_visibility = _clean(
        community_slug=community_slug,
        name=name,
        description=description,
        condition_ids=condition_ids,
        visibility=visibility,
    )
    with transaction.atomic():
        return _upsert(
            tenant=tenant,
            slug=slug,
            name=clean_name,
            description=clean_description,
            condition_ids=wanted,
            visibility=clean_visibility,
        )


def withdraw_community(*, tenant: Tenant, community_slug: str) -> None:
    """Remove a community from the directory; withdrawing one that is not listed does nothing."""
    DirectoryEntry.objects.filter(tenant=tenant, community_slug=community_slug).delete()


def rebuild_directory_for_tenant(*, tenant: Tenant, entries: Iterable[CommunityListing]) -> list[DirectoryEntry]:
    """Make the tenant's directory entries exactly the listed ``entries``, in one transaction.

    Everything is validated before the first write, so a bad listing leaves the old entries untouched.
    """
    _require_partner(tenant)
    cleaned: dict[str, tuple[str, str, set[int], str]] = {}
    for listing in entries:
        if not listing.listed:
            continue
        slug, name, description, condition_ids, visibility = _clean(
            community_slug=listing.slug,
            name=listing.name,
            description=listing.description,
            condition_ids=listing.condition_ids,
            visibility=listing.visibility,
        )
        cleaned[slug] = (name, description, condition_ids, visibility)

    with transaction.atomic():
        DirectoryEntry.objects.filter(tenant=tenant).exclude(community_slug__in=cleaned).delete()
        return [
            _upsert(
                tenant=tenant,
                slug=slug,
                name=name,
                description=description,
                condition_ids=condition_ids,
                visibility=visibility,
            )
            for slug, (name, description, condition_ids, visibility) in sorted(cleaned.items())
        ]
