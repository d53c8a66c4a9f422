"""The tenant's management pages (/manage/ on a tenant host). Thin: services write, reads are small.

Tenant admins create and change communities; tenant moderators (and admins) decide join requests and
curate tags. Anyone else gets a 404 (the pages do not reveal that they exist), anonymous visitors the
sign-in page. Writes are POST-only and show the services' messages; no page is ever indexed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, IntegerField, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from communities import services
from communities.manage_forms import (
    CommunityForm,
    JoinDecisionForm,
    MergeTagForm,
    SynonymForm,
    TagForm,
    show_domain_error,
)
from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    SearchSynonym,
    Tag,
    TagStatus,
    Topic,
)
from communities.selectors import access_community, moderation_log, unread_count
from config.errors import DomainError
from members.models import Member
from members.selectors import attach_display_names, can_administer_tenant, can_moderate_tenant, tenant_name_of
from tenants.models import Tenant

ROBOTS_NOINDEX = "noindex, nofollow"
DASHBOARD_LIST_LIMIT = 50

View = Callable[..., HttpResponse]


def _member(request: HttpRequest) -> Member:
    return cast(Member, request.user)


def _tenant(request: HttpRequest) -> Tenant:
    return cast(Tenant, request.tenant)  # type: ignore[attr-defined]


def _managers_only(*, admin: bool) -> Callable[[View], View]:
    """Sign-in redirect for anonymous visitors, 404 for people without the role, and the noindex
    header on every response of the page (redirects included)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            member, tenant = _member(request), _tenant(request)
            if not member.is_authenticated:
                response: HttpResponse = redirect_to_login(request.get_full_path())
            else:
                allowed = (
                    can_administer_tenant(member=member, tenant=tenant)
                    if admin
                    else can_moderate_tenant(member=member, tenant=tenant)
                )
                if not allowed:
                    raise Http404("No such page.")
                response = view(request, *args, **kwargs)
            response["X-Robots-Tag"] = ROBOTS_NOINDEX
            return response

        return wrapped

    return decorate


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    member, tenant = _member(request), _tenant(request)
    context = {
        **context,
        "indexable": False,
        "is_tenant_admin": can_administer_tenant(member=member, tenant=tenant),
        "unread_notifications": unread_count(member=member),
        "can_manage": True,
    }
    return render(request, f"communities/manage/{template}", context)


def _community(request: HttpRequest, slug: str) -> Community:
    # Managers see every community of their tenant; 404 alike for a missing one.
    return access_community(member=_member(request), tenant=_tenant(request), slug=slug)


# ---------------------------------------------------------------------------------------------
# Reads of the management pages (the selectors have no manager's view of a tenant)
# ---------------------------------------------------------------------------------------------


def _count_per_community(model: type[Model], **filters: Any) -> Coalesce:
    rows = (
        model._default_manager.filter(community_id=OuterRef("pk"), **filters)
        .order_by()
        .values("community_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _communities_with_counts() -> QuerySet[Community]:
    return Community.objects.order_by("name").annotate(
        member_count=_count_per_community(CommunityMembership, status=CommunityMembershipStatus.ACTIVE),
        pending_count=_count_per_community(CommunityMembership, status=CommunityMembershipStatus.PENDING),
        topic_count=_count_per_community(Topic, deleted_at__isnull=True),
        proposed_tag_count=_count_per_community(Tag, status=TagStatus.PROPOSED),
    )


def _named(rows: list[Any], request: HttpRequest, attr: str) -> list[Any]:
    """Members' names as this tenant knows them (one query), never their email."""
    attach_display_names(rows, tenant=_tenant(request), attrs=(attr,))
    return rows


def _pending_requests(community: Community | None = None) -> QuerySet[CommunityMembership]:
    rows = CommunityMembership.objects.filter(status=CommunityMembershipStatus.PENDING)
    if community is not None:
        rows = rows.filter(community=community)
    return rows.select_related("community", "member").order_by("joined_at", "pk")


def _proposed_tags(community: Community | None = None) -> QuerySet[Tag]:
    rows = Tag.objects.filter(status=TagStatus.PROPOSED)
    if community is not None:
        rows = rows.filter(community=community)
    return rows.select_related("community", "proposed_by").order_by("community__name", "kind", "name", "pk")


# ---------------------------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------------------------


@_managers_only(admin=False)
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "communities": list(_communities_with_counts()),
        "pending_requests": _named(list(_pending_requests()[:DASHBOARD_LIST_LIMIT]), request, "member"),
        "proposed_tags": _named(list(_proposed_tags()[:DASHBOARD_LIST_LIMIT]), request, "proposed_by"),
        "list_limit": DASHBOARD_LIST_LIMIT,
    }
    return _render(request, "dashboard.html", context)


# ---------------------------------------------------------------------------------------------
# Communities (tenant admins)
# ---------------------------------------------------------------------------------------------


@_managers_only(admin=True)
@require_http_methods(["GET", "POST"])
def community_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = CommunityForm(request.POST)
        if form.is_valid():
            try:
                community = services.create_community(
                    acting_member=_member(request), tenant=_tenant(request), **form.service_fields()
                )
            except DomainError as error:
                show_domain_error(form, error)
            else:
                messages.success(request, f"{community.name} is ready.")
                return redirect("community-detail", slug=community.slug)
    else:
        form = CommunityForm()
    return _render(request, "community_form.html", {"form": form, "community": None})


@_managers_only(admin=True)
@require_http_methods(["GET", "POST"])
def community_edit(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community(request, slug)
    if request.method == "POST":
        form = CommunityForm(request.POST)
        if form.is_valid():
            try:
                community = services.update_community(
                    acting_member=_member(request),
                    tenant=_tenant(request),
                    community=community,
                    **form.service_fields(),
                )
            except DomainError as error:
                show_domain_error(form, error)
                community.refresh_from_db()
            else:
                messages.success(request, f"{community.name} is saved.")
                return redirect("community-detail", slug=community.slug)
    else:
        form = CommunityForm(initial=CommunityForm.initial_for(community))
    return _render(request, "community_form.html", {"form": form, "community": community})


# ---------------------------------------------------------------------------------------------
# Moderation log (moderators)
# ---------------------------------------------------------------------------------------------


@_managers_only(admin=False)
@require_safe
def moderation_log_page(request: HttpRequest) -> HttpResponse:
    actions = moderation_log(member=_member(request), tenant=_tenant(request))
    attach_display_names(actions, tenant=_tenant(request), attrs=("actor", "subject"))
    return _render(request, "moderation_log.html", {"actions": actions})


# ---------------------------------------------------------------------------------------------
# Join requests (moderators)
# ---------------------------------------------------------------------------------------------


@_managers_only(admin=False)
@require_safe
def join_requests(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community(request, slug)
    requests = _named(list(_pending_requests(community)), request, "member")
    return _render(request, "requests.html", {"community": community, "requests": requests})


@_managers_only(admin=False)
@require_POST
def join_request_decide(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    community = _community(request, slug)
    form = JoinDecisionForm(request.POST)
    membership = CommunityMembership.objects.filter(pk=membership_id, community=community).first()
    if not form.is_valid():
        messages.error(request, "Choose approve or deny.")
    elif membership is None:
        messages.error(request, "That request was already decided.")
    else:
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.decide_join_request(
                acting_member=_member(request),
                tenant=_tenant(request),
                membership=membership,
                approve=approve,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            who = tenant_name_of(member=membership.member, tenant=_tenant(request))
            messages.success(request, f"{who} joined {community.name}." if approve else f"{who}'s request was denied.")
    return redirect("manage-requests", slug=community.slug)


# ---------------------------------------------------------------------------------------------
# Tags (moderators)
# ---------------------------------------------------------------------------------------------


def _tags_page(request: HttpRequest, community: Community, form: TagForm) -> HttpResponse:
    curated = list(
        community.tags.filter(status=TagStatus.CURATED).annotate(topic_count=Count("topics")).order_by("kind", "name")
    )
    proposed = [
        (tag, MergeTagForm(targets=curated, prefix=f"merge-{tag.pk}"))
        for tag in _named(list(_proposed_tags(community).annotate(topic_count=Count("topics"))), request, "proposed_by")
    ]
    return _render(
        request, "tags.html", {"community": community, "curated": curated, "proposed": proposed, "form": form}
    )


@_managers_only(admin=False)
@require_http_methods(["GET", "POST"])
def tags(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community(request, slug)
    if request.method != "POST":
        return _tags_page(request, community, TagForm())
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            tag = services.create_tag(
                acting_member=_member(request),
                tenant=_tenant(request),
                community=community,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"The tag “{tag.name}” is on the list.")
            return redirect("manage-tags", slug=community.slug)
    return _tags_page(request, community, form)


def _proposed_tag(community: Community, tag_id: int) -> Tag:
    tag = community.tags.filter(pk=tag_id).first()
    if tag is None:
        raise Http404("No such tag.")
    return tag


@_managers_only(admin=False)
@require_POST
def tag_approve(request: HttpRequest, slug: str, tag_id: int) -> HttpResponse:
    community = _community(request, slug)
    tag = _proposed_tag(community, tag_id)
    try:
        # Curating a tag of the same kind and name turns the proposed one into a curated one.
        services.create_tag(
            acting_member=_member(request), tenant=_tenant(request), community=community, kind=tag.kind, name=tag.name
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The tag “{tag.name}” is on the list.")
    return redirect("manage-tags", slug=community.slug)


@_managers_only(admin=False)
@require_POST
def tag_merge(request: HttpRequest, slug: str, tag_id: int) -> HttpResponse:
    community = _community(request, slug)
    source = _proposed_tag(community, tag_id)
    targets = community.tags.filter(status=TagStatus.CURATED).exclude(pk=source.pk)
    form = MergeTagForm(request.POST, targets=targets, prefix=f"merge-{source.pk}")
    if not form.is_valid():
        messages.error(request, "Choose a tag from the list to merge into.")
        return redirect("manage-tags", slug=community.slug)
    target = targets.get(pk=form.cleaned_data["target"])
    try:
        services.merge_tags(acting_member=_member(request), tenant=_tenant(request), source=source, target=target)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{source.name}” was merged into “{target.name}”; its topics carry the new tag.")
    return redirect("manage-tags", slug=community.slug)


# ---------------------------------------------------------------------------------------------
# Search synonyms (tenant admins)
# ---------------------------------------------------------------------------------------------


def _synonym_terms(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


@_managers_only(admin=True)
@require_http_methods(["GET", "POST"])
def search_synonyms(request: HttpRequest) -> HttpResponse:
    """The partner's own synonyms; each line of the list is one group of words that mean the same."""
    form = SynonymForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            synonym = services.create_search_synonym(
                acting_member=_member(request),
                tenant=_tenant(request),
                terms=_synonym_terms(form.cleaned_data["terms"]),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"Search now treats {' = '.join(synonym.terms)} as the same.")
            return redirect("manage-search-synonyms")
    synonyms = list(SearchSynonym.objects.order_by("id"))
    rows = [
        (synonym, SynonymForm(initial={"terms": ", ".join(synonym.terms)}, prefix=f"s{synonym.pk}"))
        for synonym in synonyms
    ]
    return _render(request, "search_synonyms.html", {"form": form, "rows": rows})


def _synonym(synonym_id: int) -> SearchSynonym:
    synonym = SearchSynonym.objects.filter(pk=synonym_id).first()
    if synonym is None:
        raise Http404("No such synonym group.")
    return synonym


@_managers_only(admin=True)
@require_POST
def search_synonym_edit(request: HttpRequest, synonym_id: int) -> HttpResponse:
    synonym = _synonym(synonym_id)
    form = SynonymForm(request.POST, prefix=f"s{synonym.pk}")
    if not form.is_valid():
        messages.error(request, "Type two or more words or phrases, separated by commas.")
        return redirect("manage-search-synonyms")
    try:
        services.update_search_synonym(
            acting_member=_member(request),
            tenant=_tenant(request),
            synonym=synonym,
            terms=_synonym_terms(form.cleaned_data["terms"]),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The synonyms are saved.")
    return redirect("manage-search-synonyms")


@_managers_only(admin=True)
@require_POST
def search_synonym_delete(request: HttpRequest, synonym_id: int) -> HttpResponse:
    synonym = _synonym(synonym_id)
    services.delete_search_synonym(acting_member=_member(request), tenant=_tenant(request), synonym=synonym)
    messages.success(request, f"{' = '.join(synonym.terms)}: removed from the synonyms.")
    return redirect("manage-search-synonyms")
