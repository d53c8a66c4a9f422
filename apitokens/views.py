"""API token pages on partner hosts: make (shown once), list and revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apitokens import selectors, services
from apitokens.forms import TokenForm
from apitokens.models import TokenKind
from core.errors import DomainError
from core.forms import add_error_details_to_form
from members.requests import request_member
from members.selectors import can_administer_tenant, membership_of
from tenants.requests import request_tenant


def _page(
    request: HttpRequest, *, personal_form: TokenForm, service_form: TokenForm, status: int = 200
) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    is_admin = can_administer_tenant(member=member, tenant=tenant)
    context = {
        "personal_form": personal_form,
        "service_form": service_form,
        "personal_tokens": selectors.personal_tokens(member=member, tenant=tenant),
        "service_tokens": selectors.service_tokens(tenant=tenant) if is_admin else None,
        "is_admin": is_admin,
    }
    return render(request, "apitokens/tokens.html", context, status=status)


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """GET: my tokens here (and the site's service tokens for admins). POST: make one and show it once."""
    member, tenant = request_member(request), request_tenant(request)
    if membership_of(member=member, tenant=tenant) is None:
        raise Http404
    kind = request.POST.get("kind", TokenKind.PERSONAL) if request.method == "POST" else ""
    personal_form = TokenForm(request.POST if kind == TokenKind.PERSONAL else None, prefix="personal")
    service_form = TokenForm(request.POST if kind == TokenKind.SERVICE else None, prefix="service")
    form = personal_form if kind == TokenKind.PERSONAL else service_form
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if kind == TokenKind.SERVICE:
                issued = services.create_service_token(
                    acting_member=member, tenant=tenant, name=data["name"], scopes=data["scopes"],
                    expires_in_days=data["expires_in_days"],
                )  # fmt: skip
            else:
                issued = services.create_personal_token(
                    member=member, tenant=tenant, name=data["name"], scopes=data["scopes"],
                    expires_in_days=data["expires_in_days"],
                )  # fmt: skip
        except DomainError as exc:
            add_error_details_to_form(form, exc)
        else:
            # Rendered, not redirected: the token never passes through a session or a URL.
            response = render(request, "apitokens/token_created.html", {"issued": issued})
            response["Cache-Control"] = "no-store"
            return response
    return _page(
        request,
        personal_form=personal_form,
        service_form=service_form,
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    token = selectors.token_for_revocation(member=member, tenant=tenant, token_id=token_id)
    if token is None:
        raise Http404
    services.revoke_token(acting_member=member, tenant=tenant, token=token, via="web")
    messages.success(request, f"The token “{token.name}” ({token.prefix}…) is revoked; it no longer works.")
    return redirect("token-list")
