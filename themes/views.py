"""The theme page of a tenant's management area (/manage/theme/) and the theme's images.

Thin: themes.services writes (and refuses colours below WCAG AA with the measured ratio and a fix);
the images are served from the theme storage of the host's own tenant only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from core.errors import DomainError
from core.forms import add_error_details_to_form
from members.requests import request_member
from members.selectors import can_administer_tenant
from tenants.requests import partner_tenant, request_tenant
from themes import services
from themes.contrast import format_ratio, theme_checks
from themes.forms import ThemeForm
from themes.models import Theme
from themes.selectors import theme_for, theme_of_listed_partner

ASSET_MAX_AGE = 365 * 24 * 3600  # the URL carries the theme's version


@require_http_methods(["GET", "HEAD", "POST"])
def manage_theme(request: HttpRequest) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    if not member.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_administer_tenant(member=member, tenant=tenant):
        raise Http404("No such page.")
    theme = theme_for(tenant=tenant)
    status = 200
    if request.method == "POST":
        form = ThemeForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.update_theme(
                    acting_member=member,
                    tenant=tenant,
                    changes=form.changes(),
                    logo=form.cleaned_data["logo"],
                    favicon=form.cleaned_data["favicon"],
                    remove_logo=form.cleaned_data["remove_logo"],
                    remove_favicon=form.cleaned_data["remove_favicon"],
                )
            except DomainError as error:
                add_error_details_to_form(form, error)
                status = error.http_status
            else:
                messages.success(request, "Theme saved. It is live now on every page of your site.")
                return redirect("manage-theme")
        else:
            status = 400
    else:
        form = ThemeForm(
            initial={
                field: getattr(theme, field)
                for field in (
                    "primary_colour",
                    "secondary_colour",
                    "accent_colour",
                    "background_colour",
                    "font_family",
                    "logo_text",
                    "welcome_text",
                )
            }
        )
    checks = [
        {
            "label": check.label,
            "ratio": format_ratio(check.ratio),
            "passes": check.passes,
            "suggestion": check.suggestion,
        }
        for check in theme_checks(
            primary=theme.primary_colour,
            secondary=theme.secondary_colour,
            accent=theme.accent_colour,
            background=theme.background_colour,
        )
    ]
    response = render(
        request,
        "themes/manage_theme.html",
        {"form": form, "checks": checks, "saved_theme": theme, "indexable": False, "can_manage": True},
        status=status,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _asset_response(theme: Theme | None, field: str, request: HttpRequest) -> FileResponse:
    file = getattr(theme, field, None) if theme is not None and theme.pk else None
    if not file:
        raise Http404("No such image.")
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("No such image.") from exc
    response = FileResponse(handle, content_type="image/png")
    response["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}, immutable" if request.GET.get("v") else "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def theme_logo(request: HttpRequest) -> FileResponse:
    """This host's own tenant's logo: another tenant's files are never reachable through this host."""
    return _asset_response(theme_for(tenant=partner_tenant(request)), "logo", request)


@require_safe
def theme_favicon(request: HttpRequest) -> FileResponse:
    return _asset_response(theme_for(tenant=partner_tenant(request)), "favicon", request)


@require_safe
def partner_logo(request: HttpRequest, slug: str) -> FileResponse:
    """The root's partner list: the logo of a partner listed in the directory."""
    return _asset_response(theme_of_listed_partner(slug=slug), "logo", request)
