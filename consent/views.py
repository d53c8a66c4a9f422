"""The member's "Privacy & consent" page, the re-consent interstitial and public policy pages.

Served on the root domain and on every tenant host (the ledger records which one).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from consent import selectors, services
from consent.models import Channel, ConsentPurpose
from core.errors import DomainError
from members.requests import request_member
from members.sessions import safe_next
from tenants.models import Tenant
from tenants.requests import partner_tenant


@login_required
def consent_page(request: HttpRequest) -> HttpResponse:
    member = request_member(request)
    states = selectors.consent_state_for(member=member)
    history = selectors.consent_history_for(member=member)
    schemas = {str(entry["tenant"]) for entry in history if entry["tenant"]}
    names = dict(Tenant.objects.filter(schema_name__in=schemas).values_list("schema_name", "name")) if schemas else {}
    for entry in history:
        entry["where"] = names.get(str(entry["tenant"]), entry["tenant"]) if entry["tenant"] else "Kindred"
    return render(
        request,
        "consent/consent_page.html",
        {
            "states": list(states.values()),
            "history": history,
            "policy": selectors.current_policy(),
        },
    )


@require_POST
@login_required
def decide(request: HttpRequest) -> HttpResponse:
    """One click, same page: grant or withdraw one purpose."""
    decision = request.POST.get("decision", "")
    if decision not in ("grant", "withdraw"):
        messages.error(request, "Choose to grant or to withdraw.")
        return redirect("consent-page")
    try:
        record = services.record_consent(
            member=request_member(request),
            purpose=request.POST.get("purpose", ""),
            granted=decision == "grant",
            channel=Channel.WEB,
            tenant=partner_tenant(request),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        verb = "granted" if decision == "grant" else "withdrawn"
        messages.success(request, f"Consent {verb}: {record.purpose.name}.")
    return redirect("consent-page")


@login_required
def review(request: HttpRequest) -> HttpResponse:
    """The re-consent interstitial: what changed, and a yes/no per purpose of equal weight."""
    member = request_member(request)
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
    pending = selectors.pending_reconsent(member=member)
    if not pending:
        return redirect(next_url)
    missing: list[str] = []
    if request.method == "POST":
        answers: dict[ConsentPurpose | str, bool] = {}
        for purpose in pending:
            answer = request.POST.get(f"purpose-{purpose.code}", "")
            if answer in ("grant", "decline"):
                answers[purpose.code] = answer == "grant"
            else:
                missing.append(purpose.code)
        if not missing:
            try:
                services.record_consents(
                    member=member,
                    decisions=answers,
                    channel=Channel.WEB,
                    tenant=partner_tenant(request),
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Thank you: your choices are saved.")
                return redirect(next_url)
    policy = selectors.current_policy()
    return render(
        request,
        "consent/review.html",
        {"pending": pending, "policy": policy, "next": next_url, "missing": missing},
        status=400 if missing else 200,
    )


def policy_page(request: HttpRequest, version: int) -> HttpResponse:
    """A published policy version (public: the FHIR resources refer to it)."""
    policy = selectors.policy_by_version(version=version)
    if policy is None:
        raise Http404("No such policy version.")
    covered = policy.policy_purposes.select_related("purpose").order_by("purpose__position", "purpose__code")
    return render(request, "consent/policy.html", {"policy": policy, "covered": covered})


def current_policy_page(request: HttpRequest) -> HttpResponse:
    """The footer's "Privacy policy" link: the policy in force now (a stable address for every page)."""
    policy = selectors.current_policy()
    if policy is None:
        raise Http404("No privacy policy has been published yet.")
    return redirect("consent-policy", version=policy.version)
