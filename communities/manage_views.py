"""The tenant's management pages (/manage/ on a tenant host). Thin: services write, reads are small.

Tenant admins create and change communities; tenant moderators (and admins) decide join requests and
curate tags. Anyone else gets a 404 (the pages do not reveal that they exist), anonymous visitors the
sign-in page. Writes are POST-only and show the services' messages; no page is ever indexed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from communities import moderation, safety, services
from communities.manage_forms import (
    CommunityForm,
    CrisisSettingsForm,
    JoinDecisionForm,
    LinkRulesForm,
    MergeTagForm,
    ModerationSettingsForm,
    ModeratorAddForm,
    RestrictForm,
    ReviewDecisionForm,
    SlowModeForm,
    SynonymForm,
    TagForm,
    TrustForm,
    TrustSettingsForm,
    WatchedWordForm,
    show_domain_error,
)
from communities.models import (
    Community,
    FlagReason,
    SearchSynonym,
    TrustLevel,
)
from communities.selectors import (
    HELD_FILTER,
    MODERATION_LOG_COLUMNS,
    access_community,
    access_community_tag,
    access_search_synonym,
    access_watched_word,
    all_communities,
    communities_with_counts,
    crisis_terms,
    find_tenant_members,
    join_request,
    live_topic,
    local_ids_of,
    merge_targets,
    moderation_log,
    moderation_log_rows,
    moderation_settings,
    moderator_memberships,
    on_call_member_ids,
    open_review_count,
    pending_join_requests,
    proposed_tags,
    restriction_history,
    review_queue,
    search_synonym_list,
    tags_with_topic_counts,
    trust_of,
    unread_count,
    watched_word_list,
)
from communities.views.rendering import ROBOTS_NOINDEX
from core.errors import DomainError
from members.models import TenantMembership
from members.requests import request_member
from members.selectors import (
    attach_display_names,
    can_administer_tenant,
    can_moderate_tenant,
    member_by_local_id,
    tenant_name_of,
)
from tenants.models import Tenant
from tenants.requests import request_tenant

DASHBOARD_LIST_LIMIT = 50

View = Callable[..., HttpResponse]


def _managers_only(*, admin: bool) -> Callable[[View], View]:
    """Sign-in redirect for anonymous visitors, 404 for people without the role, and the noindex
    header on every response of the page (redirects included)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            member, tenant = request_member(request), request_tenant(request)
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
    member, tenant = request_member(request), request_tenant(request)
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
    return access_community(member=request_member(request), tenant=request_tenant(request), slug=slug)


# ---------------------------------------------------------------------------------------------
# Reads of the management pages (communities.selectors has the manager's view of a tenant)
# ---------------------------------------------------------------------------------------------


def _named(rows: list[Any], request: HttpRequest, attr: str) -> list[Any]:
    """Members' names as this tenant knows them (one query), never their email."""
    attach_display_names(rows, tenant=request_tenant(request), attrs=(attr,))
    return rows


# ---------------------------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------------------------


@_managers_only(admin=False)
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "communities": list(communities_with_counts()),
        "pending_requests": _named(list(pending_join_requests()[:DASHBOARD_LIST_LIMIT]), request, "member"),
        "proposed_tags": _named(list(proposed_tags()[:DASHBOARD_LIST_LIMIT]), request, "proposed_by"),
        "list_limit": DASHBOARD_LIST_LIMIT,
        "open_reviews": open_review_count(member=request_member(request), tenant=request_tenant(request)),
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
                    acting_member=request_member(request), tenant=request_tenant(request), **form.service_fields()
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
                    acting_member=request_member(request),
                    tenant=request_tenant(request),
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
    actions = moderation_log(member=request_member(request), tenant=request_tenant(request))
    attach_display_names(actions, tenant=request_tenant(request), attrs=("actor", "subject"))
    return _render(request, "moderation_log.html", {"actions": actions})


@_managers_only(admin=True)
@require_safe
def moderation_log_export(request: HttpRequest) -> HttpResponse:
    """The whole log as CSV, for the tenant's administrators."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="moderation-log.csv"'
    writer = csv.writer(response)
    writer.writerow(MODERATION_LOG_COLUMNS)
    writer.writerows(moderation_log_rows(member=request_member(request), tenant=request_tenant(request)))
    return response


# ---------------------------------------------------------------------------------------------
# Review queue (moderators)
# ---------------------------------------------------------------------------------------------

REASON_FILTERS = [(HELD_FILTER, "Held (new members' first posts)"), *FlagReason.choices]


def _queue_page(
    request: HttpRequest, *, status: int = 200, failed: dict[int, ReviewDecisionForm] | None = None
) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    community_slug = request.GET.get("community") or None
    reason = request.GET.get("reason") or None
    items = review_queue(member=member, tenant=tenant, community_slug=community_slug, reason=reason)
    attach_display_names([item.post for item in items], tenant=tenant)
    communities = all_communities()
    failed = failed or {}
    rows = [
        {
            "item": item,
            "flags": list(item.post.flags.all()),
            "form": failed.get(item.pk)
            or ReviewDecisionForm(initial={"body": item.post.body_markdown}, communities=communities),
        }
        for item in items
    ]
    context = {
        "rows": rows,
        "communities": communities,
        "reasons": REASON_FILTERS,
        "community_filter": community_slug or "",
        "reason_filter": reason or "",
        "settings_form": ModerationSettingsForm(initial={"flag_threshold": moderation_settings().flag_threshold}),
    }
    response = _render(request, "queue.html", context)
    response.status_code = status
    return response


@_managers_only(admin=False)
@require_safe
def review_queue_page(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


@_managers_only(admin=False)
@require_POST
def review_decide(request: HttpRequest, item_id: int) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    try:
        item = moderation.review_item_for_moderator(member=member, tenant=tenant, item_id=item_id)
    except DomainError as error:
        raise Http404(error.message) from error
    communities = all_communities()
    form = ReviewDecisionForm(request.POST, communities=communities)
    if form.is_valid():
        data = form.cleaned_data
        target = next((c for c in communities if c.slug == data["community"]), None)
        try:
            moderation.decide(
                acting_member=member,
                tenant=tenant,
                item=item,
                choice=moderation.DecisionInput(
                    decision=data["decision"],
                    reason=data["reason"],
                    body=data["body"],
                    link=data["link"],
                    community=target,
                ),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"Done: {moderation.Decision.LABELS[data['decision']].lower()}.")
            return redirect("manage-queue")
    return _queue_page(request, status=400, failed={item.pk: form})


@_managers_only(admin=False)
@require_POST
def moderation_settings_save(request: HttpRequest) -> HttpResponse:
    form = ModerationSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The flag threshold is a number from 1 to 50.")
    else:
        try:
            moderation.update_moderation_settings(
                acting_member=request_member(request),
                tenant=request_tenant(request),
                flag_threshold=form.cleaned_data["flag_threshold"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Saved.")
    return redirect("manage-queue")


# ---------------------------------------------------------------------------------------------
# Watched words and link rules (moderators)
# ---------------------------------------------------------------------------------------------


def _words_page(
    request: HttpRequest,
    *,
    form: WatchedWordForm | None = None,
    links_form: LinkRulesForm | None = None,
    trial: moderation.PatternTrial | None = None,
    status: int = 200,
) -> HttpResponse:
    row = moderation_settings()
    context = {
        "words": list(watched_word_list()),
        "form": form or WatchedWordForm(),
        "links_form": links_form
        or LinkRulesForm(
            initial={
                "new_members_may_link": row.new_members_may_link,
                "new_member_posts": row.new_member_posts,
                "allowed_domains": row.link_allowed_domains,
                "denied_domains": row.link_denied_domains,
            }
        ),
        "trial": trial,
    }
    response = _render(request, "words.html", context)
    response.status_code = status
    return response


@_managers_only(admin=False)
@require_http_methods(["GET", "POST"])
def watched_words(request: HttpRequest) -> HttpResponse:
    """Add a watched word, or first test it against a sample (the "Test" button saves nothing)."""
    if request.method != "POST":
        return _words_page(request)
    form = WatchedWordForm(request.POST)
    if not form.is_valid():
        return _words_page(request, form=form, status=400)
    data = form.cleaned_data
    member, tenant = request_member(request), request_tenant(request)
    try:
        if request.POST.get("intent") == "test":
            trial = moderation.try_pattern(
                acting_member=member,
                tenant=tenant,
                pattern=data["pattern"],
                is_regex=data["is_regex"],
                action=data["action"],
                replacement=data["replacement"],
                sample=data["sample"],
            )
            return _words_page(request, form=form, trial=trial)
        moderation.add_watched_word(
            acting_member=member,
            tenant=tenant,
            pattern=data["pattern"],
            is_regex=data["is_regex"],
            action=data["action"],
            replacement=data["replacement"],
            message=data["message"],
        )
    except DomainError as error:
        show_domain_error(form, error)
        return _words_page(request, form=form, status=error.http_status)
    messages.success(request, f"Now watching “{data['pattern']}”.")
    return redirect("manage-words")


@_managers_only(admin=False)
@require_POST
def watched_word_remove(request: HttpRequest, word_id: int) -> HttpResponse:
    word = access_watched_word(word_id=word_id)
    moderation.remove_watched_word(acting_member=request_member(request), tenant=request_tenant(request), word=word)
    messages.info(request, f"No longer watching “{word.pattern}”.")
    return redirect("manage-words")


@_managers_only(admin=False)
@require_POST
def link_rules(request: HttpRequest) -> HttpResponse:
    form = LinkRulesForm(request.POST)
    if not form.is_valid():
        return _words_page(request, links_form=form, status=400)
    data = form.cleaned_data
    try:
        moderation.update_link_rules(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            new_members_may_link=data["new_members_may_link"],
            new_member_posts=data["new_member_posts"],
            allowed_domains=data["allowed_domains"],
            denied_domains=data["denied_domains"],
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _words_page(request, links_form=form, status=error.http_status)
    messages.success(request, "Link rules saved.")
    return redirect("manage-words")


# ---------------------------------------------------------------------------------------------
# Crisis escalation (moderators)
# ---------------------------------------------------------------------------------------------


def _moderator_choices(tenant: Tenant) -> list[tuple[TenantMembership, str]]:
    memberships = list(moderator_memberships(tenant=tenant, order_by=("member_id",)))
    attach_display_names(memberships, tenant=tenant, attrs=("member",))
    return [(m, m.member_name) for m in memberships]  # type: ignore[attr-defined]


@_managers_only(admin=False)
@require_http_methods(["GET", "POST"])
def crisis_settings(request: HttpRequest) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    moderators = _moderator_choices(tenant)
    status = 200
    if request.method == "POST":
        form = CrisisSettingsForm(request.POST, moderators=[(m.local_id, name) for m, name in moderators])
        if form.is_valid():
            ticked = set(form.cleaned_data["on_call"])
            try:
                moderation.update_crisis_settings(
                    acting_member=member,
                    tenant=tenant,
                    resources=form.cleaned_data["resources"],
                    terms=form.cleaned_data["terms"],
                    on_call_member_ids=[m.member_id for m, _ in moderators if m.local_id in ticked],
                )
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.http_status
            else:
                messages.success(request, "Crisis settings saved.")
                return redirect("manage-crisis")
        else:
            status = 400
    else:
        on_call = set(on_call_member_ids())
        form = CrisisSettingsForm(
            initial={
                "resources": moderation_settings().crisis_resources,
                "terms": "\n".join(f"{t.get_risk_display().lower()}: {t.phrase}" for t in crisis_terms()),
                "on_call": [m.local_id for m, _ in moderators if m.member_id in on_call],
            },
            moderators=[(m.local_id, name) for m, name in moderators],
        )
    response = _render(request, "crisis.html", {"form": form})
    response.status_code = status
    return response


# ---------------------------------------------------------------------------------------------
# Join requests (moderators)
# ---------------------------------------------------------------------------------------------


@_managers_only(admin=False)
@require_safe
def join_requests(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community(request, slug)
    requests = _named(list(pending_join_requests(community=community)), request, "member")
    return _render(request, "requests.html", {"community": community, "requests": requests})


@_managers_only(admin=False)
@require_POST
def join_request_decide(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    community = _community(request, slug)
    form = JoinDecisionForm(request.POST)
    membership = join_request(community=community, request_id=membership_id)
    if not form.is_valid():
        messages.error(request, "Choose approve or deny.")
    elif membership is None:
        messages.error(request, "That request was already decided.")
    else:
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.decide_join_request(
                acting_member=request_member(request),
                tenant=request_tenant(request),
                membership=membership,
                approve=approve,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            who = tenant_name_of(member=membership.member, tenant=request_tenant(request))
            messages.success(request, f"{who} joined {community.name}." if approve else f"{who}'s request was denied.")
    return redirect("manage-requests", slug=community.slug)


# ---------------------------------------------------------------------------------------------
# Tags (moderators)
# ---------------------------------------------------------------------------------------------


def _tags_page(request: HttpRequest, community: Community, form: TagForm) -> HttpResponse:
    curated, proposed_rows = tags_with_topic_counts(community=community)
    proposed = [
        (tag, MergeTagForm(targets=curated, prefix=f"merge-{tag.pk}"))
        for tag in _named(proposed_rows, request, "proposed_by")
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
                acting_member=request_member(request),
                tenant=request_tenant(request),
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


@_managers_only(admin=False)
@require_POST
def tag_approve(request: HttpRequest, slug: str, tag_id: int) -> HttpResponse:
    community = _community(request, slug)
    tag = access_community_tag(community=community, tag_id=tag_id)
    try:
        # Curating a tag of the same kind and name turns the proposed one into a curated one.
        services.create_tag(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            community=community,
            kind=tag.kind,
            name=tag.name,
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
    source = access_community_tag(community=community, tag_id=tag_id)
    targets = merge_targets(source=source)
    form = MergeTagForm(request.POST, targets=targets, prefix=f"merge-{source.pk}")
    if not form.is_valid():
        messages.error(request, "Choose a tag from the list to merge into.")
        return redirect("manage-tags", slug=community.slug)
    target = targets.get(pk=form.cleaned_data["target"])
    try:
        services.merge_tags(
            acting_member=request_member(request), tenant=request_tenant(request), source=source, target=target
        )
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
                acting_member=request_member(request),
                tenant=request_tenant(request),
                terms=_synonym_terms(form.cleaned_data["terms"]),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"Search now treats {' = '.join(synonym.terms)} as the same.")
            return redirect("manage-search-synonyms")
    synonyms = list(search_synonym_list())
    rows = [
        (synonym, SynonymForm(initial={"terms": ", ".join(synonym.terms)}, prefix=f"s{synonym.pk}"))
        for synonym in synonyms
    ]
    return _render(request, "search_synonyms.html", {"form": form, "rows": rows})


def _synonym(synonym_id: int) -> SearchSynonym:
    return access_search_synonym(synonym_id=synonym_id)


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
            acting_member=request_member(request),
            tenant=request_tenant(request),
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
    services.delete_search_synonym(
        acting_member=request_member(request), tenant=request_tenant(request), synonym=synonym
    )
    messages.success(request, f"{' = '.join(synonym.terms)}: removed from the synonyms.")
    return redirect("manage-search-synonyms")


# ---------------------------------------------------------------------------------------------
# Members: silence, suspend, trust level (moderators); moderators (admins); slow mode
# ---------------------------------------------------------------------------------------------

MEMBER_LIST_LIMIT = 50


def _membership_here(request: HttpRequest, member_id: str) -> TenantMembership:
    membership = member_by_local_id(tenant=request_tenant(request), local_id=member_id)
    if membership is None:
        raise Http404("No such member.")
    return membership


@_managers_only(admin=False)
@require_safe
def members_page(request: HttpRequest) -> HttpResponse:
    """Find a member (name or id here) and see who is silenced or suspended now."""
    tenant = request_tenant(request)
    query = " ".join(request.GET.get("q", "").split())[:80]
    found: list[TenantMembership] = []
    if query:
        found = find_tenant_members(tenant=tenant, query=query, limit=MEMBER_LIST_LIMIT)
        attach_display_names(found, tenant=tenant, attrs=("member",))
    restrictions = safety.current_restrictions(limit=200)
    attach_display_names(restrictions, tenant=tenant, attrs=("member",))
    local_ids = local_ids_of(tenant=tenant, member_ids=[r.member_id for r in restrictions])
    for restriction in restrictions:
        restriction.local_id = local_ids.get(restriction.member_id, "")  # type: ignore[attr-defined]
    return _render(request, "members.html", {"query": query, "found": found, "restrictions": restrictions})


def _member_page(
    request: HttpRequest,
    membership: TenantMembership,
    *,
    restrict_form: RestrictForm | None = None,
    trust_form: TrustForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = request_tenant(request)
    member = membership.member
    trust = trust_of(member=member)
    level = TrustLevel(trust.level) if trust else TrustLevel.NEW
    response = _render(
        request,
        "member.html",
        {
            "membership": membership,
            "member_name": tenant_name_of(member=member, tenant=tenant),
            "trust": trust,
            "level": level,
            "activity": safety.activity_of(member=member, tenant=tenant),
            "restriction": safety.active_restriction(member=member, tenant=tenant),
            "history": restriction_history(member=member, limit=50),
            "restrict_form": restrict_form or RestrictForm(),
            "trust_form": trust_form or TrustForm(initial={"level": level.label.lower(), "locked": True}),
        },
    )
    response.status_code = status
    return response


@_managers_only(admin=False)
@require_safe
def member_page(request: HttpRequest, member_id: str) -> HttpResponse:
    return _member_page(request, _membership_here(request, member_id))


@_managers_only(admin=False)
@require_POST
def member_restrict(request: HttpRequest, member_id: str) -> HttpResponse:
    membership = _membership_here(request, member_id)
    form = RestrictForm(request.POST)
    if not form.is_valid():
        return _member_page(request, membership, restrict_form=form, status=400)
    try:
        moderation.restrict_member(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=membership.member,
            kind=form.cleaned_data["kind"],
            days=form.cleaned_data["days"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        show_domain_error(form, error)
        return _member_page(request, membership, restrict_form=form, status=error.http_status)
    messages.success(request, "Done: the member was told why and until when.")
    return redirect("manage-member", member_id=member_id)


@_managers_only(admin=False)
@require_POST
def member_trust(request: HttpRequest, member_id: str) -> HttpResponse:
    membership = _membership_here(request, member_id)
    form = TrustForm(request.POST)
    if not form.is_valid():
        return _member_page(request, membership, trust_form=form, status=400)
    try:
        moderation.set_trust_level(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=membership.member,
            level=form.cleaned_data["level"],
            locked=form.cleaned_data["locked"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        show_domain_error(form, error)
        return _member_page(request, membership, trust_form=form, status=error.http_status)
    messages.success(request, "Trust level saved.")
    return redirect("manage-member", member_id=member_id)


@_managers_only(admin=False)
@require_POST
def restriction_lift(request: HttpRequest, restriction_id: int) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    try:
        restriction = moderation.restriction_for_moderator(member=member, tenant=tenant, restriction_id=restriction_id)
        moderation.lift_restriction(acting_member=member, tenant=tenant, restriction=restriction)
    except services.CommunityNotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Lifted: the member can take part again.")
    return redirect("manage-members")


def _moderators_page(request: HttpRequest, form: ModeratorAddForm, status: int = 200) -> HttpResponse:
    tenant = request_tenant(request)
    rows = list(moderator_memberships(tenant=tenant))
    attach_display_names(rows, tenant=tenant, attrs=("member",))
    response = _render(request, "moderators.html", {"rows": rows, "form": form})
    response.status_code = status
    return response


@_managers_only(admin=True)
@require_http_methods(["GET", "POST"])
def moderators_page(request: HttpRequest) -> HttpResponse:
    """Tenant admins add and remove moderators."""
    if request.method != "POST":
        return _moderators_page(request, ModeratorAddForm())
    form = ModeratorAddForm(request.POST)
    if not form.is_valid():
        return _moderators_page(request, form, status=400)
    membership = member_by_local_id(tenant=request_tenant(request), local_id=form.cleaned_data["member_id"].strip())
    if membership is None:
        form.add_error("member_id", "No member of this site has that id.")
        return _moderators_page(request, form, status=400)
    try:
        moderation.set_moderator(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=membership.member,
            moderator=True,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        show_domain_error(form, error)
        return _moderators_page(request, form, status=error.http_status)
    messages.success(request, "Added as a moderator.")
    return redirect("manage-moderators")


@_managers_only(admin=True)
@require_POST
def moderator_remove(request: HttpRequest, member_id: str) -> HttpResponse:
    membership = _membership_here(request, member_id)
    try:
        moderation.set_moderator(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            member=membership.member,
            moderator=False,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "No longer a moderator.")
    return redirect("manage-moderators")


@_managers_only(admin=False)
@require_POST
def topic_slow_mode(request: HttpRequest, topic_id: int) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    topic = live_topic(topic_id=topic_id)
    if topic is None:
        raise Http404("No such topic.")
    form = SlowModeForm(request.POST)
    if form.is_valid():
        try:
            moderation.set_slow_mode(
                acting_member=member,
                tenant=tenant,
                topic=topic,
                minutes=form.cleaned_data["minutes"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            minutes = form.cleaned_data["minutes"]
            messages.success(request, f"Slow mode: one post per {minutes} minutes." if minutes else "Slow mode off.")
    else:
        messages.error(request, "Slow mode: minutes from 0 (off) to 1440.")
    return redirect("topic-detail", topic_id=topic.pk)


@_managers_only(admin=False)
@require_http_methods(["GET", "POST"])
def trust_settings(request: HttpRequest) -> HttpResponse:
    """The trust ladder: what each level needs, new members' limits, what reports weigh."""
    status = 200
    if request.method == "POST":
        form = TrustSettingsForm(request.POST)
        if form.is_valid():
            try:
                moderation.update_trust_settings(
                    acting_member=request_member(request),
                    tenant=request_tenant(request),
                    requirements=form.requirements(),
                    **form.numbers(),
                )
            except DomainError as error:
                show_domain_error(form, error)
                status = error.http_status
            else:
                messages.success(request, "Trust ladder saved; levels follow at each member's next evaluation.")
                return redirect("manage-trust")
        else:
            status = 400
    else:
        row = moderation_settings()
        form = TrustSettingsForm(initial=TrustSettingsForm.initial_from(requirements=safety.requirements(row), row=row))
    response = _render(request, "trust.html", {"form": form})
    response.status_code = status
    return response
