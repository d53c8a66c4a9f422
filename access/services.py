"""Per-schema groups that mirror a member's tenant role (called inside a tenant context)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

from access.models import MemberGroup

if TYPE_CHECKING:
    from tenants.models import Tenant

ADMINISTRATORS = "Partner administrators"
MODERATORS = "Partner moderators"
ROLE_GROUP_NAMES = {"admin": ADMINISTRATORS, "moderator": MODERATORS}

# (app_label, codename) pairs; a tenant admin manages content and communities, never identities.
COLLECTION_PERMISSIONS = [
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
]
ADMIN_PERMISSIONS = [
    ("wagtailadmin", "access_admin"),
    ("communities", "add_community"),
    ("communities", "change_community"),
    ("communities", "delete_community"),
    ("communities", "view_community"),
    ("communities", "moderate_community"),
    *COLLECTION_PERMISSIONS,
]
MODERATOR_PERMISSIONS = [
    ("communities", "view_community"),
    ("communities", "moderate_community"),
]
PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "bulk_delete_page", "lock_page", "unlock_page"]


def _permissions(pairs: list[tuple[str, str]]) -> list[Permission]:
    query = Q()
    for app_label, codename in pairs:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query))
    if len(found) != len(pairs):
        missing = set(pairs) - {(p.content_type.app_label, p.codename) for p in found}
        raise RuntimeError(f"permissions missing in this schema: {sorted(missing)}")
    return found


def setup_role_groups(*, tenant: Tenant) -> None:
    """Provisioning step (tenants/registry.py): runs inside the new tenant's schema."""
    ensure_role_groups()


def ensure_role_groups() -> dict[str, Group]:
    """Create or repair this schema's role groups and their Wagtail page/collection rights."""
    admins, _ = Group.objects.get_or_create(name=ADMINISTRATORS)
    moderators, _ = Group.objects.get_or_create(name=MODERATORS)
    admins.permissions.set(_permissions(ADMIN_PERMISSIONS))
    moderators.permissions.set(_permissions(MODERATOR_PERMISSIONS))
    root_page = Page.get_first_root_node()
    if root_page is not None:
        for permission in _permissions([("wagtailcore", codename) for codename in PAGE_PERMISSIONS]):
            GroupPagePermission.objects.get_or_create(group=admins, page=root_page, permission=permission)
    root_collection = Collection.get_first_root_node()
    if root_collection is not None:
        for permission in _permissions(COLLECTION_PERMISSIONS):
            GroupCollectionPermission.objects.get_or_create(
                group=admins, collection=root_collection, permission=permission
            )
    return {"admin": admins, "moderator": moderators}


def sync_member_role_groups(*, member_id: int, role: str | None) -> None:
    """Make the member's role groups in the current schema match ``role`` (None: no role at all)."""
    groups = ensure_role_groups() if role in ROLE_GROUP_NAMES else None
    role_group_ids = list(Group.objects.filter(name__in=ROLE_GROUP_NAMES.values()).values_list("id", flat=True))
    MemberGroup.objects.filter(member_id=member_id, group_id__in=role_group_ids).delete()
    if groups is not None and role is not None:
        MemberGroup.objects.get_or_create(member_id=member_id, group=groups[role])
