"""Trial pages on the root and every tenant host. Thin: selectors read, services write."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from core.errors import DomainError
from members.requests import request_member
from tenants.requests import partner_tenant
from trials import selectors, services
from trials.geo import resolve_place
from trials.models import PHASE_LABELS, STUDY_TYPES, OverallStatus
from trials.registry import trial_panels

ROBOTS_NOINDEX = "noindex, nofollow"


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    # Search pages and member pages are personal or endless: not for crawlers.
    response["X-Robots-Tag"] = ROBOTS_NOINDEX
    return response


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def trial_search(request: HttpRequest) -> HttpResponse:
    member = request_member(request)
    params = request.GET
    query, errors = selectors.parse_trial_query(params, member=member)
    page = None
    searched = any(
        key in params for key in ("condition", "condition_id", "q", "near", "status", "phase", "study_type", "within")
    )
    # On a partner's site the list starts at the partner's own conditions (those of its communities);
    # "all=1" (or any search) shows every condition.
    partner_conditions = (
        selectors.partner_condition_ids()
        if partner_tenant(request) is not None and not searched and not params.get("all")
        else ()
    )
    if partner_conditions:
        query = dataclasses.replace(query, condition_ids=partner_conditions)
    if not errors:
        page = selectors.search_trials(
            query=query, member=member, limit=selectors.DEFAULT_PAGE, offset=_int(params.get("offset"), 0)
        )
    saved = selectors.saved_nct_ids(member=member, nct_ids=[hit.trial.nct_id for hit in page.hits] if page else [])
    next_params = params.copy()
    if page is not None:
        next_params["offset"] = str(page.offset + page.limit)
    context = {
        "page": page,
        "errors": errors,
        "params": params,
        "searched": searched,
        "place": query.place,
        "saved": saved,
        "statuses": OverallStatus.choices,
        "selected_statuses": [s.upper() for s in params.getlist("status")],
        "phases": list(PHASE_LABELS.items()),
        "study_types": list(STUDY_TYPES.items()),
        "next_query": next_params.urlencode(),
        "partner_default": bool(partner_conditions),
    }
    return _render(request, "trials/search.html", context, status=400 if errors else 200)


def trial_detail(request: HttpRequest, nct_id: str) -> HttpResponse:
    trial = selectors.get_trial(nct_id=nct_id)
    if trial is None:
        raise Http404("No such trial.")
    member = request_member(request)
    near = request.GET.get("near", "").strip()
    place = resolve_place(near) if near else selectors.member_place(member=member)
    hint, reasons = selectors.eligibility_hint(trial=trial, member=member)
    panels = [mark_safe(html) for panel in trial_panels() if (html := panel(request, trial))]  # noqa: S308 (rendered templates)
    context = {
        "trial": trial,
        "sites": selectors.sites_by_distance(trial=trial, place=place),
        "place": place,
        "near": near,
        "near_unknown": bool(near) and place is None,
        "hint": hint,
        "hint_reasons": reasons,
        "saved": trial.nct_id in selectors.saved_nct_ids(member=member, nct_ids=[trial.nct_id]),
        "panels": panels,
    }
    return _render(request, "trials/detail.html", context)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


@login_required
@require_POST
def trial_save(request: HttpRequest, nct_id: str) -> HttpResponse:
    try:
        if request.POST.get("action") == "unsave":
            services.unsave_trial(member=request_member(request), nct_id=nct_id)
            messages.success(request, "Removed from your saved trials.")
        else:
            services.save_trial(member=request_member(request), nct_id=nct_id)
            messages.success(request, "Saved: we will tell you when its status changes.")
    except services.TrialNotFound as exc:
        raise Http404("No such trial.") from exc
    return _back(request, reverse("trial-detail", args=[nct_id]))


@login_required
def my_trials(request: HttpRequest) -> HttpResponse:
    member = request_member(request)
    if request.method == "POST":
        services.mark_notices_read(member=member)
        return redirect("my-trials")
    context = {
        "saved_trials": selectors.saved_trials(member=member),
        "notices": selectors.notices_for(member=member),
        "alert": selectors.alert_for(member=member),
        "for_you": selectors.trials_for_member(member=member, limit=5),
    }
    return _render(request, "trials/my_trials.html", context)


@login_required
def alert_settings(request: HttpRequest) -> HttpResponse:
    member = request_member(request)
    alert = selectors.alert_for(member=member)
    errors: dict[str, list[str]] = {}
    values = {
        "place": alert.place if alert else member.region,
        "distance_miles": alert.distance_miles if alert else 100,
        "active": alert.active if alert else True,
    }
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            services.delete_trial_alert(member=member)
            messages.success(request, "Your trial alert is removed.")
            return redirect("trial-alert")
        values = {
            "place": request.POST.get("place", ""),
            "distance_miles": request.POST.get("distance_miles", ""),
            "active": request.POST.get("active") == "on",
        }
        try:
            services.set_trial_alert(
                member=member,
                place=str(values["place"]),
                distance_miles=_int(values["distance_miles"], 0),
                active=bool(values["active"]),
            )
        except DomainError as exc:
            errors = exc.details or {"__all__": [exc.message]}
        else:
            messages.success(request, "Saved: we will email you about new recruiting trials near you.")
            return redirect("trial-alert")
    context = {"alert": alert, "values": values, "errors": errors, "has_conditions": member.conditions.exists()}
    return _render(request, "trials/alert.html", context, status=400 if errors else 200)
