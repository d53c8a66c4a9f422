"""Clinical-trial discussions (a panel on the trial page, registered with trials.registry)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from communities import services
from communities.selectors import (
    access_community,
    joined_communities,
    trial_discussions,
)
from core.errors import DomainError
from members.requests import request_member
from tenants.requests import partner_tenant, request_tenant


def trial_discussions_panel(request: HttpRequest, trial: Any) -> str:
    """The trial page's "Discussions" card on a tenant host: this tenant's topics about the trial and,
    for members, a button to open (or find) the topic in one of their communities. Nothing on the root."""
    tenant = partner_tenant(request)
    if tenant is None:
        return ""
    member = request_member(request)
    context = {
        "trial": trial,
        "discussions": trial_discussions(member=member, tenant=tenant, nct_id=trial.nct_id),
        "my_communities": joined_communities(member=member),
    }
    return render_to_string("communities/_trial_discussions.html", context, request=request)


@login_required
@require_POST
def trial_discuss(request: HttpRequest, nct_id: str) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    community = access_community(member=member, tenant=tenant, slug=request.POST.get("community", ""))
    try:
        topic, _ = services.open_trial_discussion(
            acting_member=member, tenant=tenant, community=community, nct_id=nct_id
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("trial-detail", nct_id=nct_id)
    return redirect("topic-detail", topic_id=topic.pk)
