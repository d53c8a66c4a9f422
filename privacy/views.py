"""Privacy pages on the root domain: settings, data export, account deletion, who accessed my data."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.forms import add_error_details_to_form
from members import selectors as member_selectors
from members import services as member_services
from members.forms import PrivacySettingsForm, TenantNameForm
from members.requests import request_member
from members.sessions import end_session
from privacy import selectors, services
from privacy.forms import DeleteAccountForm
from privacy.models import ExportStatus
from privacy.registry import disclosures
from tenants.requests import request_tenant
from tenants.selectors import host_url, root_path, root_url, tenant_path


@login_required
def privacy_page(request: HttpRequest) -> HttpResponse:
    member = request_member(request)
    initial = {flag: getattr(member, flag) for flag in member_services.PRIVACY_FLAGS}
    initial["email_notifications"] = member.email_notifications
    form = PrivacySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        member_services.update_privacy_settings(member=member, **form.cleaned_data)
        messages.success(request, "Your privacy settings are saved.")
        return redirect("privacy")
    memberships = list(member_selectors.memberships_for(member=member).prefetch_related("tenant__domains"))
    for membership in memberships:
        membership.name_url = host_url(  # type: ignore[attr-defined]
            host=membership.tenant.primary_domain, request=request, path=tenant_path("tenant-name")
        )
    context = {
        "form": form,
        "memberships": memberships,
        "exports": selectors.exports_for(member=member)[:5],
        "accesses": selectors.staff_access_for(member=member)[:50],
        "disclosures": [(disclosure, disclosure.rows(member=member)) for disclosure in disclosures()],
    }
    return render(request, "privacy/privacy.html", context)


@require_POST
@login_required
def export_create(request: HttpRequest) -> HttpResponse:
    export = services.request_export(member=request_member(request))
    return redirect("privacy-export", public_id=export.public_id)


@login_required
def export_status(request: HttpRequest, public_id: str) -> HttpResponse:
    export = selectors.export_of(member=request_member(request), public_id=public_id)
    if export is None:
        raise Http404
    download = services.make_download_token(export=export) if export.status == ExportStatus.READY else ""
    return render(request, "privacy/export.html", {"export": export, "download_token": download})


@login_required
def export_download(request: HttpRequest, token: str) -> HttpResponse | FileResponse:
    try:
        export = services.open_download(member=request_member(request), token=token)
    except DomainError as exc:
        return render(request, "privacy/link_problem.html", {"message": exc.message}, status=exc.http_status)
    response = FileResponse(
        open(export.file_path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=f"kindred-data-{export.public_id}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            erasure = services.request_erasure(
                member=request_member(request),
                password=form.cleaned_data["password"],
                keep_posts=form.cleaned_data["keep_posts"],
            )
        except DomainError as exc:
            add_error_details_to_form(form, exc, message_on_field=True)
        else:
            end_session(request)
            return redirect("erasure-status", token=services.make_erasure_status_token(request=erasure))
    return render(request, "privacy/delete_account.html", {"form": form})


def erasure_status(request: HttpRequest, token: str) -> HttpResponse:
    """Reachable without signing in (the account is closed): the signed link shows progress only."""
    try:
        erasure = services.erasure_for_status_token(token=token)
    except DomainError as exc:
        return render(request, "privacy/link_problem.html", {"message": exc.message}, status=exc.http_status)
    return render(request, "privacy/erasure_status.html", {"erasure": erasure})


# --- tenant hosts: my name here, member lists and profiles -------------------------------------


@login_required
def tenant_name(request: HttpRequest) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    membership = member_selectors.membership_of(member=member, tenant=tenant)
    if membership is None:
        raise Http404
    form = TenantNameForm(request.POST or None, initial={"display_name": membership.display_name})
    if request.method == "POST" and form.is_valid():
        try:
            member_services.set_tenant_display_name(
                member=member, tenant=tenant, display_name=form.cleaned_data["display_name"]
            )
        except DomainError as exc:
            form.add_error("display_name", exc.message)
        else:
            messages.success(request, "Your name here is saved.")
            return redirect("tenant-name")
    context = {
        "form": form,
        "membership": membership,
        "root_privacy_url": root_url(request=request, path=root_path("privacy")),
    }
    return render(request, "privacy/tenant_name.html", context)


def _require_tenant_member(request: HttpRequest) -> None:
    member = request_member(request)
    if not member.is_authenticated or (
        member_selectors.membership_of(member=member, tenant=request_tenant(request)) is None
        and not member.is_superuser
    ):
        raise Http404


def member_list(request: HttpRequest) -> HttpResponse:
    """Members who chose to be listed; only the tenant's own members see the list."""
    _require_tenant_member(request)
    memberships = list(member_selectors.listed_members(tenant=request_tenant(request))[:500])
    rows = [
        {
            "id": m.local_id or member_selectors.local_id_of(m.member, tenant=request_tenant(request)),
            "name": m.display_name or m.member.display_name or "A member",
        }
        for m in memberships
    ]
    return render(request, "privacy/member_list.html", {"rows": rows})


def member_profile(request: HttpRequest, member_id: str) -> HttpResponse:
    _require_tenant_member(request)
    membership = member_selectors.profile_in_tenant(tenant=request_tenant(request), local_id=member_id)
    if membership is None:
        raise Http404
    return render(
        request, "privacy/member_profile.html", {"profile": member_selectors.visible_profile(membership=membership)}
    )
