"""Lock down Wagtail's Users admin inside tenants; link the tenant's admin to the moderation pages.

Members are global: a tenant admin who could edit a Member could make anyone a platform
superuser or take over their account on every partner. Only platform superusers may create or
edit members through Wagtail, and nobody deletes one there (the platform erases members, every
schema at once); tenant admins manage roles through Kindred's own membership API, which changes
only their tenant's groups.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from cms import admin_views
from members.selectors import can_administer_tenant, can_moderate_tenant
from tenants.selectors import tenant_path


def _superusers_only(request: HttpRequest, *args: Any) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied("Members are managed by the platform; change roles from your community settings.")


def _erased_not_deleted(request: HttpRequest, *args: Any) -> None:
    # Not even a superuser: a member's rows live in every tenant schema (with no foreign key into
    # public to stop a delete); the platform's erasure clears them all (privacy.services.erase_member).
    raise PermissionDenied("Members are erased by the platform, from the member's privacy page or the staff admin.")


hooks.register("before_create_user", _superusers_only)
hooks.register("before_edit_user", _superusers_only)
hooks.register("before_delete_user", _erased_not_deleted)


# ---------------------------------------------------------------------------------------------
# Moderation lives in Kindred's own pages (/manage/ on the tenant's host); the tenant's Wagtail admin
# links to them so admins and moderators find everything in one place.
# ---------------------------------------------------------------------------------------------


class _TenantMenuItem(MenuItem):
    """Shown to this tenant's moderators (``admin_only``: administrators) and platform superusers."""

    def __init__(self, *args: Any, admin_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admin_only = admin_only

    def is_shown(self, request: HttpRequest) -> bool:
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == "public":
            return False
        check = can_administer_tenant if self.admin_only else can_moderate_tenant
        return check(member=request.user, tenant=tenant)  # type: ignore[arg-type]


MODERATION_LINKS = (
    # (label, route name on partner hosts, menu name, icon, administrators only)
    ("Review queue", "manage-queue", "kindred-queue", "tasks", False),
    ("Moderation log", "manage-moderation-log", "kindred-log", "list-ul", False),
    ("Watched words and links", "manage-words", "kindred-words", "warning", False),
    ("Crisis escalation", "manage-crisis", "kindred-crisis", "help", False),
    ("Members: silence, suspend, trust", "manage-members", "kindred-members", "user", False),
    ("Trust ladder", "manage-trust", "kindred-trust", "pick", False),
    ("Moderators", "manage-moderators", "kindred-moderators", "group", True),
    ("Communities", "manage-dashboard", "kindred-communities", "folder-open-inverse", False),
)


@hooks.register("register_admin_menu_item")
def moderation_menu() -> SubmenuMenuItem:
    items = [
        # Wagtail builds its menu once per process, maybe on the root host: name the partner URLconf.
        _TenantMenuItem(label, tenant_path(route), name=name, icon_name=icon, order=order, admin_only=admin_only)
        for order, (label, route, name, icon, admin_only) in enumerate(MODERATION_LINKS, start=1)
    ]
    return SubmenuMenuItem("Moderation", Menu(items=items), name="kindred-moderation", icon_name="warning", order=250)


# ---------------------------------------------------------------------------------------------
# The partner's own admin pages (administrators): stale reviews, insights, invitations, the embed feed
# ---------------------------------------------------------------------------------------------


@hooks.register("register_admin_urls")
def _kindred_admin_urls() -> list[Any]:
    return [
        path("kindred/stale-resources/", admin_views.stale_report, name="cms_stale_report"),
        path("kindred/insights/", admin_views.insights, name="cms_insights"),
        path("kindred/invitations/", admin_views.invitations, name="cms_invitations"),
        path("kindred/embed/", admin_views.embed, name="cms_embed"),
    ]


@hooks.register("register_reports_menu_item")
def _stale_report_menu_item() -> MenuItem:
    return _TenantMenuItem(
        "Resources due for review", reverse("cms_stale_report"), icon_name="warning", order=900, admin_only=True
    )


@hooks.register("register_admin_menu_item")
def _insights_menu_item() -> MenuItem:
    return _TenantMenuItem("Insights", reverse("cms_insights"), icon_name="table", order=950, admin_only=True)


@hooks.register("register_admin_menu_item")
def _invitations_menu_item() -> MenuItem:
    return _TenantMenuItem("Invite members", reverse("cms_invitations"), icon_name="user", order=960, admin_only=True)


@hooks.register("register_admin_menu_item")
def _embed_menu_item() -> MenuItem:
    return _TenantMenuItem("Embed feed", reverse("cms_embed"), icon_name="code", order=970, admin_only=True)
