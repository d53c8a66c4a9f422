"""Pages: notifications and search."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from communities import services
from communities.models import (
    TagKind,
    TopicKind,
)
from communities.search import parse_query, resource_sources, search_request_from
from communities.selectors import (
    notification_target,
    notifications_for,
    search_posts,
    searchable_tags,
    visible_communities,
)
from communities.views.rendering import _render
from core.errors import DomainError
from members.requests import request_member
from members.selectors import attach_display_names, tenant_display_names
from tenants.requests import request_tenant
from trials.selectors import TrialQuery, search_trials


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    member = request_member(request)
    notifications = notifications_for(member=member)
    attach_display_names(notifications, tenant=request_tenant(request), attrs=("actor",))
    context = {"notifications": notifications}
    return _render(request, "communities/notifications.html", context)


@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Following a notification marks it read, then leads to what it is about."""
    try:
        notification = services.open_notification(member=request_member(request), notification_id=notification_id)
    except DomainError as error:
        raise Http404(error.message) from error
    return redirect(notification_target(notification=notification))


@require_POST
@login_required
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    changed = services.mark_notifications_read(member=request_member(request))
    messages.info(request, f"{changed} notification{'s' if changed != 1 else ''} marked as read.")
    return redirect("notifications")


FILTER_LABELS = {
    "community": "community",
    "kind": "kind",
    "status": "answered / unanswered",
    "after": "from date",
    "before": "to date",
    "author": "author",
}


def search(request: HttpRequest) -> HttpResponse:
    """One search page, three tabs: discussions (posts grouped by topic), trials, resources."""
    member, tenant = request_member(request), request_tenant(request)
    search_request = search_request_from(request.GET, kinds=TopicKind.values, tenant=tenant)
    tabs = [("posts", "Discussions"), ("trials", "Trials")] + [(key, label) for key, label, _ in resource_sources()]
    tab = request.GET.get("tab", "posts")
    tab = tab if tab in dict(tabs) else "posts"
    context: dict[str, Any] = {"search": search_request, "tabs": tabs, "tab": tab}
    result = None
    if search_request.query:
        if tab == "posts":
            result = search_posts(member=member, tenant=tenant, request=search_request)
        else:
            words = parse_query(search_request.query).positive_texts
            if tab == "trials":
                context["trials"] = search_trials(query=TrialQuery(keyword=" ".join(words)), limit=20).hits
            else:
                source = next(fn for key, _, fn in resource_sources() if key == tab)
                context["resources"] = source(words=words, limit=20)
    filters = search_request.filters
    search_url = reverse("community-search")
    communities = list(visible_communities(member=member, tenant=tenant))
    tags = searchable_tags(member=member, tenant=tenant, communities=communities)
    tag_choices: dict[str, dict[str, str]] = {}
    for tag in tags:
        tag_choices.setdefault(tag.kind, {}).setdefault(tag.slug, tag.name)
    selected_tags = dict(filters.tags)
    base_params = [("q", search_request.query), *filters.as_params()]
    if search_request.sort != "relevance":
        base_params.append(("sort", search_request.sort))
    # The author filter shows the author's name here, and each result offers "Posts by this member":
    # the same search narrowed to that author (their id on this tenant), from the first page.
    author_name = (
        tenant_display_names(tenant=tenant, member_ids=[filters.author_member_id]).get(filters.author_member_id, "")
        if filters.author_member_id
        else ""
    )
    without_author = [("q", search_request.query), *filters.without("author").as_params()]
    if search_request.sort != "relevance":
        without_author.append(("sort", search_request.sort))
    relaxations = []
    if result is not None:
        for name, count in result.relaxations:
            label = FILTER_LABELS.get(name, name.replace(":", " tag ").replace("topic tag", "tag"))
            params = [("q", search_request.query), *filters.without(name).as_params()]
            relaxations.append((label, count, search_url + "?" + urlencode(params)))
    context.update(
        {
            "result": result,
            "filters": filters,
            "communities": communities,
            "tag_choices": [
                (
                    param,
                    kind.label,
                    sorted(tag_choices.get(kind.value, {}).items(), key=lambda item: item[1]),
                    selected_tags.get(kind.value, ""),
                )
                for param, kind in (
                    ("tag", TagKind.TOPIC),
                    ("symptom", TagKind.SYMPTOM),
                    ("treatment", TagKind.TREATMENT),
                )
            ],
            "relaxations": relaxations,
            "suggestion_url": (
                search_url + "?" + urlencode([("q", result.suggestion), *filters.as_params()])
                if result is not None and result.suggestion
                else ""
            ),
            "tab_query": urlencode([("q", search_request.query)]),
            "author_name": author_name,
            "without_author_url": search_url + "?" + urlencode(without_author),
            "by_author_query": urlencode(without_author),
            "next_url": search_url + "?" + urlencode([*base_params, ("page", search_request.page + 1)]),
            "prev_url": search_url + "?" + urlencode([*base_params, ("page", search_request.page - 1)]),
            "ignored": search_request.errors,
        }
    )
    return _render(request, "communities/search.html", context)
