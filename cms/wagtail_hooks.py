"""Lock down Wagtail's Users admin inside tenants.

Members are global: a tenant admin who could edit a Member could make anyone a platform
superuser or take over their account on every partner. Only platform superusers may create,
edit or delete members through Wagtail; tenant admins manage roles through Kindred's own
membership API, which changes only their tenant's groups.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from cms import admin_views
from members.selectors import can_administer_tenant


def _superusers_only(request: HttpRequest, *args: Any) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied("Members are managed by the platform; change roles from your community settings.")


hooks.register("before_create_user", _superusers_only)
hooks.register("before_edit_user", _superusers_only)
hooks.register("before_delete_user", _superusers_only)


# --- the partner's own admin pages: stale reviews, insights, invitations, the embeddable feed ---------


def _is_tenant_admin(request: HttpRequest) -> bool:
    tenant = getattr(request, "tenant", None)
    return bool(
        tenant is not None
        and request.user.is_authenticated
        and can_administer_tenant(member=request.user, tenant=tenant)
    )


class TenantAdminMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return _is_tenant_admin(request)


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
    return TenantAdminMenuItem("Resources due for review", reverse("cms_stale_report"), icon_name="warning", order=900)


@hooks.register("register_admin_menu_item")
def _insights_menu_item() -> MenuItem:
    return TenantAdminMenuItem("Insights", reverse("cms_insights"), icon_name="table", order=950)


@hooks.register("register_admin_menu_item")
def _invitations_menu_item() -> MenuItem:
    return TenantAdminMenuItem("Invite members", reverse("cms_invitations"), icon_name="user", order=960)


@hooks.register("register_admin_menu_item")
def _embed_menu_item() -> MenuItem:
    return TenantAdminMenuItem("Embed feed", reverse("cms_embed"), icon_name="code", order=970)
