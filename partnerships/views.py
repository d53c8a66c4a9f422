"""Root domain: the Stripe webhook. Tenant hosts: the sponsorship disclosure and the partner admin's
read-only view of their agreement and invoices, with the directory publish control."""

from __future__ import annotations

import logging
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.errors import DomainError
from members.selectors import can_administer_tenant
from partnerships import selectors, services
from partnerships.models import PartnershipAgreement

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe signs the request instead; there is no session or cookie to forge
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        outcome = services.handle_stripe_webhook(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except DomainError as exc:
        logger.info("stripe webhook refused: %s", exc.code)
        return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.http_status)
    return JsonResponse({"received": True, "outcome": outcome})


def sponsorship_disclosure(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    return render(request, "partnerships/sponsorship.html", {"disclosed_sponsor": selectors.sponsor_of(tenant=tenant)})


@login_required
def partnership_page(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    if not can_administer_tenant(member=request.user, tenant=tenant):  # type: ignore[arg-type]
        raise Http404
    agreements = selectors.agreements_for_tenant(tenant=tenant)
    return render(request, "partnerships/partnership.html", {"agreements": agreements, "tenant": tenant})


@login_required
@require_POST
def publish_tenant(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    try:
        services.publish_tenant(
            acting_member=request.user,  # type: ignore[arg-type]
            tenant=tenant,
            listed=request.POST.get("listed") == "1",
        )
    except DomainError as exc:
        if exc.http_status == 403:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "Listed in the public directory." if tenant.listed else "Hidden from the directory.")
    return redirect("/manage/partnership/")


@login_required
def archive_download(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """Platform staff fetch an ended agreement's archive to deliver it to the partner."""
    if not request.user.is_staff:
        raise Http404
    agreement = PartnershipAgreement.objects.filter(public_id=public_id).exclude(archive_path="").first()
    if agreement is None or not Path(agreement.archive_path).is_file():
        raise Http404
    return FileResponse(
        Path(agreement.archive_path).open("rb"), as_attachment=True, filename=f"kindred-archive-{public_id}.zip"
    )


def study_invitations(request: HttpRequest) -> HttpResponse:
    """Approved study invitations of this community, labelled as such (anyone may read them)."""
    studies = selectors.sent_studies_for(tenant=request.tenant)  # type: ignore[attr-defined]
    return render(request, "partnerships/studies.html", {"studies": studies})
