"""Root domain: the Stripe webhook. Tenant hosts: the sponsorship disclosure and the partner admin's
read-only view of their agreement and invoices, with the directory publish control, and their decisions
on study invitations. Root domain also: a research partner's representatives submit study invitations."""

from __future__ import annotations

import logging
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError, NotAllowed
from core.forms import add_error_details_to_form
from members.requests import request_member
from members.selectors import can_administer_tenant
from partnerships import selectors, services
from partnerships.forms import StudyDecisionForm, StudySubmitForm
from partnerships.models import PartnershipAgreement, StudyStatus
from tenants.requests import request_tenant

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
    tenant = request_tenant(request)
    return render(request, "partnerships/sponsorship.html", {"disclosed_sponsor": selectors.sponsor_of(tenant=tenant)})


@login_required
def partnership_page(request: HttpRequest) -> HttpResponse:
    tenant = request_tenant(request)
    if not can_administer_tenant(member=request_member(request), tenant=tenant):
        raise Http404
    agreements = selectors.agreements_for_tenant(tenant=tenant)
    return render(request, "partnerships/partnership.html", {"agreements": agreements, "tenant": tenant})


@login_required
@require_POST
def publish_tenant(request: HttpRequest) -> HttpResponse:
    tenant = request_tenant(request)
    try:
        services.publish_tenant(
            acting_member=request_member(request),
            tenant=tenant,
            listed=request.POST.get("listed") == "1",
        )
    except DomainError as exc:
        if exc.http_status == 403:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "Listed in the public directory." if tenant.listed else "Hidden from the directory.")
    return redirect("manage-partnership")


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
    studies = selectors.sent_studies_for(tenant=request_tenant(request))
    return render(request, "partnerships/studies.html", {"studies": studies})


@login_required
@never_cache
def manage_studies(request: HttpRequest) -> HttpResponse:
    """A tenant admin's list of the study invitations addressed to this community (never another's)."""
    tenant = request_tenant(request)
    member = request_member(request)
    if not can_administer_tenant(member=member, tenant=tenant):
        raise Http404
    studies = selectors.studies_for_tenant(tenant=tenant)
    response = render(
        request,
        "partnerships/manage_studies.html",
        {"studies": studies, "tenant": tenant, "can_manage": True, "indexable": False},
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_required
@require_POST
def manage_study_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    tenant = request_tenant(request)
    member = request_member(request)
    if not can_administer_tenant(member=member, tenant=tenant):
        raise Http404
    # Looked up within this tenant only: another community's invitation is a 404 like a missing one.
    study = selectors.studies_for_tenant(tenant=tenant).filter(public_id=public_id).first()
    if study is None:
        raise Http404
    form = StudyDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Approve or Decline; a reason has at most 500 characters.")
        return redirect("manage-studies")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        study = services.decide_study_invitation(
            acting_member=member, study_id=study.pk, approve=approve, reason=form.cleaned_data["reason"]
        )
    except NotAllowed as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, f"{study.title}: {exc.message}")
    else:
        if not approve:
            messages.success(request, f"Declined “{study.title}”. The research partner is told why.")
        elif study.status == StudyStatus.APPROVED:
            messages.success(
                request, f"Approved “{study.title}”. It is being sent to members who agreed to study contact."
            )
        else:
            messages.success(request, f"Approved “{study.title}”. It is sent once Kindred's staff approve it too.")
    return redirect("manage-studies")


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def submit_study(request: HttpRequest) -> HttpResponse:
    """Root domain: a research partner's representative proposes a study invitation and follows their
    partner's submissions. Whether they may submit is the service's decision; its refusal is shown."""
    member = request_member(request)
    agreements = selectors.research_agreements_represented_by(member=member)
    form = StudySubmitForm(request.POST or None, agreements=agreements)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            study = services.submit_study_invitation(
                submitted_by=member,
                agreement=data["agreement"],
                tenant=data["tenant"],
                title=data["title"],
                summary=data["summary"],
                eligibility=data["eligibility"],
                contact=data["contact"],
                ethics_approval_ref=data["ethics_approval_ref"],
                condition_ids=[condition.pk for condition in data["conditions"]],
            )
        except DomainError as exc:
            add_error_details_to_form(form, exc)
            if exc.details:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Submitted “{study.title}”. Kindred's staff and {study.tenant.name}'s admins review it; "
                "nobody is contacted before both approve.",
            )
            return redirect("submit-study")
    context = {
        "form": form,
        "has_agreements": agreements.exists(),
        "studies": selectors.studies_of_partners_represented_by(member=member),
    }
    return render(request, "partnerships/submit_study.html", context)
