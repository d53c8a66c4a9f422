from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from tenants.selectors import root_path, root_url
from themes.selectors import theme_for

# The resource library's URL name: the cms app's library when it has one, else the plain list of
# resource pages that communities serves at /resources/.
RESOURCE_URL_NAMES = ("resource-library", "resources")
# The partner's Wagtail pages are served by Wagtail's own route (its site root is the community home,
# with the upcoming expert sessions): linked by route name, since themes knows no cms.
PAGES_URL_NAME = "wagtail_serve"
EXPERT_SESSIONS_ANCHOR = "#expert-sessions"


def tenant_theme(request: HttpRequest) -> dict[str, Any]:
    """The theme of the host's tenant and the links of every page's header and footer."""
    tenant = getattr(request, "tenant", None)
    is_partner_site = tenant is not None and tenant.schema_name != "public"
    context: dict[str, Any] = {
        "theme": theme_for(tenant=tenant),
        "current_tenant": tenant,
        "is_partner_site": is_partner_site,
    }
    if is_partner_site:
        context["privacy_url"] = root_url(request=request, path=root_path("privacy"))
        context["platform_url"] = root_url(request=request, path="/")
        context["resources_url"] = _resources_url()
        context["community_home_url"] = _pages_url()
        context["expert_sessions_url"] = _pages_url() + EXPERT_SESSIONS_ANCHOR
    else:
        context["privacy_url"] = root_path("privacy")
    return context


def _pages_url() -> str:
    try:
        return reverse(PAGES_URL_NAME, args=[""])
    except NoReverseMatch:
        return "/"


def _resources_url() -> str:
    for name in RESOURCE_URL_NAMES:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return reverse("community-search")
