"""A "Theme" entry in each partner's Wagtail admin menu, for the tenant's admins: it opens the theme
page (/manage/theme/), where the colours are checked for contrast before they go live."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from django.urls import reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from members.models import Member
from members.selectors import can_administer_tenant
from tenants.models import Tenant


class ThemeMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == "public":
            return False
        return can_administer_tenant(member=cast(Member, request.user), tenant=cast(Tenant, tenant))


@hooks.register("register_admin_menu_item")
def register_theme_menu_item() -> MenuItem:
    return ThemeMenuItem("Theme", reverse("manage-theme"), icon_name="image", order=950)
