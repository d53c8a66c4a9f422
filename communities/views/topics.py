"""Server-rendered community pages of a tenant host. Thin: selectors read, services write.

Every read goes through a selector that fails with 404 for "missing" and "forbidden" alike, so ids and
slugs reveal nothing. Writes are POST-only and show the services' messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST, require_safe

from communities import moderation, permissions, safety, services, wording
from communities.feed import anonymous_feed, feed_for
from communities.forms import (
    EditPostForm,
    FlagForm,
    ReactionForm,
    RemovalForm,
    ReplyForm,
    TopicForm,
    WatchLevelForm,
    add_domain_error,
)
from communities.manage_forms import SlowModeForm
from communities.models import (
    Community,
    CommunityMembershipStatus,
    ContentStatus,
    Post,
    ReactionKind,
    TagKind,
    Topic,
    TopicKind,
    Visibility,
    WatchLevel,
)
from communities.search import parse_query, resource_sources, search_request_from
from communities.selectors import (
    access_community,
    access_post,
    access_readable_community,
    access_topic,
    access_topic_page,
    active_community_ids,
    can_moderate,
    can_read_community,
    community_membership_of,
    community_topics,
    community_watch_level,
    curated_tags,
    find_communities,
    is_active_community_member,
    joined_communities,
    notification_target,
    notifications_for,
    post_of_topic,
    resource_library_page,
    resource_pages,
    search_posts,
    searchable_tags,
    topic_posts,
    trial_discussions,
    unread_count,
    visible_communities,
)
from core.errors import DomainError, InvalidInput
from members.requests import request_member
from members.selectors import attach_display_names, can_moderate_tenant, membership_of
from tenants.requests import partner_tenant, request_tenant
from tenants.selectors import root_url
from trials.selectors import TrialQuery, search_trials

ROBOTS_NOINDEX = "noindex, nofollow"
_Page = TypeVar("_Page")
HELD_MESSAGE = (
    "Thanks! Your post is awaiting review: a moderator looks at new members' first posts before others see them."
)
REACTIONS = [(kind.value, kind.label, services.REACTION_COUNTERS[kind]) for kind in ReactionKind]


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, indexable: bool = False, status: int = 200
) -> HttpResponse:
    """Render a tenant page. Only open communities' pages may be indexed: patients' posts elsewhere are
    not for the whole web, so everything else says so twice (header for crawlers that skip HTML, meta)."""
    member = request_member(request)
    context = {
        **context,
        "indexable": indexable,
        "unread_notifications": unread_count(member=member) if member.is_authenticated else 0,
        "can_manage": member.is_authenticated and can_moderate_tenant(member=member, tenant=request_tenant(request)),
    }
    response = render(request, template, context, status=status)
    if not indexable:
        response["X-Robots-Tag"] = ROBOTS_NOINDEX
    return response


# ---------------------------------------------------------------------------------------------
# Home and communities
# ---------------------------------------------------------------------------------------------


def _first_page_if_stale(fetch: Callable[[str | None], _Page], cursor: str | None) -> _Page:
    """A person following an old or mangled "more" link sees the list from its start (the API says
    400 instead: a program should learn its cursor is wrong)."""
    try:
        return fetch(cursor)
    except InvalidInput:
        if cursor is None:
            raise
        return fetch(None)


def tenant_home(request: HttpRequest) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    page = _first_page_if_stale(
        lambda cursor: (
            feed_for(member=member, tenant=tenant, cursor=cursor)
            if member.is_authenticated
            else anonymous_feed(tenant=tenant, cursor=cursor)
        ),
        request.GET.get("cursor") or None,
    )
    community_query = request.GET.get("community_q", "").strip()
    if community_query:
        communities = find_communities(member=member, tenant=tenant, query=community_query)
    else:
        communities = list(visible_communities(member=member, tenant=tenant))
    joined = active_community_ids(member=member)
    attach_display_names([item.topic for item in page.items], tenant=tenant)
    context = {
        "feed": page,
        "communities": communities,
        "my_communities": [community for community in communities if community.pk in joined],
        "other_communities": [community for community in communities if community.pk not in joined],
        "membership": membership_of(member=member, tenant=tenant),
        "community_query": community_query,
        "directory_url": root_url(
            request=request,
            path=reverse("community-directory", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
            + f"?{urlencode({'q': community_query})}",
        ),
    }
    # The home page is personal (a member's feed) and lists members-only names: never indexed.
    return _render(request, "communities/tenant_home.html", context)


def community_detail(request: HttpRequest, slug: str) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    community = access_community(member=member, tenant=tenant, slug=slug)
    kind = request.GET.get("kind") if request.GET.get("kind") in TopicKind.values else None
    tag_slug = request.GET.get("tag") or None
    readable = can_read_community(member=member, tenant=tenant, community=community)
    page = (
        _first_page_if_stale(
            lambda cursor: community_topics(
                member=member, tenant=tenant, community=community, kind=kind, tag_slug=tag_slug, cursor=cursor
            ),
            request.GET.get("cursor") or None,
        )
        if readable
        else None
    )
    if page is not None:
        attach_display_names(page.items, tenant=tenant)
    community_membership = community_membership_of(member=member, community=community)
    watch_level = community_watch_level(member=member, community=community)
    context = {
        "community": community,
        "readable": readable,
        "page": page,
        "kind": kind,
        "tag_slug": tag_slug,
        "tags": curated_tags(community=community) if readable else [],
        "community_membership": community_membership,
        "is_participant": (
            community_membership is not None and community_membership.status == CommunityMembershipStatus.ACTIVE
        ),
        "watch_form": WatchLevelForm(initial={"level": watch_level or WatchLevel.NORMAL}),
        "filter_query": urlencode({key: value for key, value in (("kind", kind), ("tag", tag_slug)) if value}),
    }
    return _render(
        request, "communities/community_detail.html", context, indexable=community.visibility == Visibility.OPEN
    )


def _community_for_write(request: HttpRequest, slug: str) -> Community:
    return access_community(member=request_member(request), tenant=request_tenant(request), slug=slug)


@require_POST
@login_required
def community_join(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community_for_write(request, slug)
    try:
        membership = services.join_community(
            member=request_member(request), tenant=request_tenant(request), community=community
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if membership.status == CommunityMembershipStatus.ACTIVE:
            messages.success(request, f"You joined {community.name}.")
        else:
            messages.info(request, f"Your request to join {community.name} is waiting for a moderator.")
    return redirect("community-detail", slug=community.slug)


@require_POST
@login_required
def community_leave(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community_for_write(request, slug)
    try:
        services.leave_community(member=request_member(request), tenant=request_tenant(request), community=community)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, f"You left {community.name}.")
    return redirect("community-detail", slug=community.slug)


@require_POST
@login_required
def community_watch(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community_for_write(request, slug)
    form = WatchLevelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a notification level.")
        return redirect("community-detail", slug=community.slug)
    try:
        services.set_community_watch_level(
            member=request_member(request),
            tenant=request_tenant(request),
            community=community,
            level=form.cleaned_data["level"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your notification level for this community is saved.")
    return redirect("community-detail", slug=community.slug)


# ---------------------------------------------------------------------------------------------
# Topics
# ---------------------------------------------------------------------------------------------


@login_required
def topic_new(request: HttpRequest, slug: str) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    community = access_readable_community(member=member, tenant=tenant, slug=slug)
    tags = list(curated_tags(community=community))
    kind = request.GET.get("kind") if request.GET.get("kind") in TopicKind.values else TopicKind.QUESTION
    status = 200
    if request.method == "POST":
        form = TopicForm(request.POST, tags=tags)
        if form.is_valid():
            try:
                topic = services.create_topic(
                    acting_member=member,
                    tenant=tenant,
                    community=community,
                    kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    tag_ids=form.cleaned_data["tag_ids"],
                    proposed_tag_names=form.proposed_tag_names(),
                )
            except (services.PostingRateLimited, safety.NewMemberTopicLimit) as error:
                add_domain_error(form, error)
                status = error.http_status
            except DomainError as error:
                add_domain_error(form, error)
            else:
                if topic.status == ContentStatus.HELD:
                    messages.info(request, HELD_MESSAGE)
                return redirect("topic-detail", topic_id=topic.pk)
        kind = form.data.get("kind") if form.data.get("kind") in TopicKind.values else kind
    else:
        form = TopicForm(initial={"kind": kind}, tags=tags)
    context = {
        "community": community,
        "form": form,
        "kind": kind,
        "is_participant": is_active_community_member(member=member, community=community),
    }
    return _render(request, "communities/topic_new.html", context, status=status)


def _topic_page(
    request: HttpRequest,
    topic: Topic,
    *,
    reply_form: ReplyForm | None = None,
    status: int = 200,
    record_reading: bool = False,
) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    posts = topic_posts(member=member, tenant=tenant, topic=topic)
    if record_reading:
        # Posts read feed the trust ladder (communities.safety): one statement per view.
        safety.record_reading(member=member, topic=topic, posts_seen=len(posts))
    attach_display_names([view.post for view in posts], tenant=tenant)  # names as this tenant knows them
    page = access_topic_page(member=member, tenant=tenant, topic=topic)
    is_moderator, is_participant = page.is_moderator, page.is_participant
    # A silenced or suspended participant is told why and until when instead of getting a reply form.
    restriction = (
        safety.active_restriction(member=member, tenant=tenant) if is_participant and not is_moderator else None
    )
    quote_id = request.GET.get("quote")
    if reply_form is None:
        reply_form = ReplyForm(initial={"quote": quote_id} if quote_id and quote_id.isdigit() else None)
    quoting = reply_form["quote"].value()

    now = timezone.now()
    since = permissions.editable_since(now)
    # The posts' action URLs (…/p/<id>/edit/ and the like) hang off the topic's: reversed once a page.
    topic_url = reverse("topic-detail", kwargs={"topic_id": topic.pk})
    # Flat rows of ready values: the template engine's cost is per variable lookup, and a topic page
    # renders hundreds of them.
    rows = []
    for view in posts:
        post = view.post
        removed = view.is_removed
        rows.append(
            {
                "pk": post.pk,
                "css": "card post" + (" answer" if view.is_answer else "") + (" removed" if removed else ""),
                "author": post.author_name,  # type: ignore[attr-defined]  # this tenant's name (attached above)
                "ago": timesince(post.created_at, now),
                "edited": post.edited_at is not None,
                "is_answer": view.is_answer,
                "is_removed": removed,
                "body_html": view.body_html,
                "action": f"{topic_url}p/{post.pk}/",
                "reactions": [
                    (
                        f"{kind}:{'off' if kind in view.my_reactions else 'on'}",
                        kind in view.my_reactions,
                        label,
                        getattr(post, counter),
                    )
                    for kind, label, counter in REACTIONS
                ],
                "revisions": page.revisions.get(post.pk, []),
                "can_edit": permissions.can_edit_post(member=member, post=post, since=since),
                "can_delete": permissions.can_delete_post(member=member, post=post),
                "can_remove": permissions.can_remove_post(member=member, post=post, is_moderator=is_moderator),
                "can_report": permissions.can_report_post(member=member, post=post),
                "is_held": post.status == ContentStatus.HELD,
                "is_hidden": post.status == ContentStatus.HIDDEN,
                "hidden_reason": post.hidden_reason,
                "misinformation_note": post.misinformation_note,
                "misinformation_url": post.misinformation_url,
                "crisis_resources": view.crisis_resources,
                "can_mark_answer": (
                    not view.is_answer and permissions.can_mark_answer(member=member, topic=topic, post=post)
                ),
            }
        )
    context = {
        "topic": topic,
        "community": topic.community,
        "rows": rows,
        "tags": page.tags,
        "is_moderator": is_moderator,
        "is_participant": is_participant,
        "can_reply": is_participant and (topic.locked_at is None or is_moderator) and restriction is None,
        "restriction_notice": safety.refusal_message(restriction) if restriction is not None else "",
        "is_signed_in": member.is_authenticated,
        "reply_form": reply_form,
        "quoting": str(quoting) if quoting else "",
        "watch_form": WatchLevelForm(initial={"level": page.watch_level or WatchLevel.NORMAL}),
        "slow_mode_form": SlowModeForm(initial={"minutes": topic.slow_mode_minutes}) if is_moderator else None,
    }
    indexable = topic.community.visibility == Visibility.OPEN
    return _render(request, "communities/topic_detail.html", context, indexable=indexable, status=status)


def topic_detail(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = access_topic(member=request_member(request), tenant=request_tenant(request), topic_id=topic_id)
    return _topic_page(request, topic, record_reading=True)


def _post_url(topic_id: int, post_id: int) -> str:
    return reverse("topic-detail", kwargs={"topic_id": topic_id}) + f"#post-{post_id}"


def _post_in(request: HttpRequest, topic: Topic, post_id: int) -> Post:
    return access_post(member=request_member(request), tenant=request_tenant(request), topic=topic, post_id=post_id)


@require_POST
@login_required
def topic_reply(request: HttpRequest, topic_id: int) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    topic = access_topic(member=member, tenant=tenant, topic_id=topic_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        quote_id = form.cleaned_data.get("quote")
        # A quote of another topic's post is looked up in this topic only, so it can't reveal that post;
        # an id that isn't here leaves ``quoted`` empty and the reply is refused below.
        quoted = post_of_topic(topic=topic, post_id=quote_id) if quote_id else None
        if quote_id and quoted is None:
            form.add_error(None, wording.QUOTE_ELSEWHERE)
            return _topic_page(request, topic, reply_form=form, status=400)
        try:
            post = services.create_reply(
                acting_member=member, tenant=tenant, topic=topic, body=form.cleaned_data["body"], quoted_post=quoted
            )
        except (services.PostingRateLimited, safety.SlowModeActive) as error:
            add_domain_error(form, error)
            return _topic_page(request, topic, reply_form=form, status=error.http_status)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if post.status == ContentStatus.HELD:
                messages.info(request, HELD_MESSAGE)
            return redirect(_post_url(topic.pk, post.pk))
    return _topic_page(request, topic, reply_form=form, status=400)


@login_required
def post_edit(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    topic = access_topic(member=member, tenant=tenant, topic_id=topic_id)
    post = _post_in(request, topic, post_id)
    if post.author_id != member.pk:
        raise Http404("No such post.")
    if request.method == "POST":
        form = EditPostForm(request.POST)
        if form.is_valid():
            try:
                services.edit_post(
                    acting_member=member,
                    tenant=tenant,
                    post=post,
                    body=form.cleaned_data["body"],
                    title=form.cleaned_data["title"] if post.is_opening else None,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, "Your post is updated.")
                return redirect(_post_url(topic.pk, post.pk))
    else:
        form = EditPostForm(initial={"title": topic.title, "body": post.body_markdown})
    return _render(request, "communities/post_edit.html", {"topic": topic, "post": post, "form": form})


def _post_action(request: HttpRequest, topic_id: int, post_id: int, action: str) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    topic = access_topic(member=member, tenant=tenant, topic_id=topic_id)
    post = _post_in(request, topic, post_id)
    try:
        if action == "delete":
            services.delete_post(acting_member=member, tenant=tenant, post=post)
            messages.info(request, "The post was removed.")
        elif action == "restore":
            services.restore_post(acting_member=member, tenant=tenant, post=post)
            messages.success(request, "The post is back.")
        elif action == "answer":
            services.mark_answer(acting_member=member, tenant=tenant, topic=topic, post=post)
            messages.success(request, "Marked as the answer.")
        elif action == "react":
            form = ReactionForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Choose a reaction.")
            elif form.cleaned_data["on"]:
                services.react(member=member, tenant=tenant, post=post, kind=form.cleaned_data["kind"])
            else:
                services.unreact(member=member, tenant=tenant, post=post, kind=form.cleaned_data["kind"])
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(_post_url(topic.pk, post.pk))


@require_POST
@login_required
def post_delete(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    return _post_action(request, topic_id, post_id, "delete")


@login_required
def post_remove(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    """A moderator removes someone else's post, saying why (the author is told; the log keeps it)."""
    member, tenant = request_member(request), request_tenant(request)
    topic = access_topic(member=member, tenant=tenant, topic_id=topic_id)
    post = _post_in(request, topic, post_id)
    if not can_moderate(member=member, tenant=tenant):
        raise Http404("No such page.")
    form = RemovalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.delete_post(acting_member=member, tenant=tenant, post=post, reason=form.cleaned_data["reason"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.info(request, "The post was removed.")
            return redirect(_post_url(topic.pk, post.pk))
    context = {"topic": topic, "community": topic.community, "post": post, "form": form}
    return _render(request, "communities/post_remove.html", context)


@login_required
def post_report(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    """Any signed-in member reports someone else's post to the moderators, with a reason."""
    member, tenant = request_member(request), request_tenant(request)
    topic = access_topic(member=member, tenant=tenant, topic_id=topic_id)
    post = _post_in(request, topic, post_id)
    form = FlagForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            moderation.flag_post(
                member=member,
                tenant=tenant,
                post=post,
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(request, "Thank you. The moderators will look at this post.")
            return redirect(_post_url(topic.pk, post.pk))
    context = {"topic": topic, "community": topic.community, "post": post, "form": form}
    return _render(request, "communities/post_report.html", context, status=status)


@require_POST
@login_required
def post_restore(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    return _post_action(request, topic_id, post_id, "restore")


@require_POST
@login_required
def post_answer(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    return _post_action(request, topic_id, post_id, "answer")


@require_POST
@login_required
def post_react(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    return _post_action(request, topic_id, post_id, "react")


@require_POST
@login_required
def topic_watch(request: HttpRequest, topic_id: int) -> HttpResponse:
    member, tenant = request_member(request), request_tenant(request)
    topic = access_topic(member=member, tenant=tenant, topic_id=topic_id)
    form = WatchLevelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a notification level.")
    else:
        try:
            services.set_topic_watch_level(member=member, tenant=tenant, topic=topic, level=form.cleaned_data["level"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Your notification level for this topic is saved.")
    return redirect("topic-detail", topic_id=topic.pk)


# ---------------------------------------------------------------------------------------------
# Notifications and search
# ---------------------------------------------------------------------------------------------


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
    search_request = search_request_from(request.GET, kinds=TopicKind.values)
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
            "next_url": search_url + "?" + urlencode([*base_params, ("page", search_request.page + 1)]),
            "prev_url": search_url + "?" + urlencode([*base_params, ("page", search_request.page - 1)]),
            "ignored": search_request.errors,
        }
    )
    return _render(request, "communities/search.html", context)


# ---------------------------------------------------------------------------------------------
# Clinical-trial discussions (a panel on the trial page, registered with trials.registry)
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Resources (until the cms app's resource library takes the "resource-library" URL name)
# ---------------------------------------------------------------------------------------------


@require_safe
def resource_index(request: HttpRequest) -> HttpResponse:
    """The header's "Resources" link: the partner's Wagtail resource library (cms.ResourceIndexPage)
    when it has one, else a plain list of its published resource pages. Reads Wagtail's page tree by
    content type: communities never imports cms."""
    library = resource_library_page()
    if library is not None and library.url:
        return redirect(library.url)
    return _render(request, "communities/resource_index.html", {"pages": resource_pages(limit=200)})
