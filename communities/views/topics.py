"""Pages: topics and their posts (new topic, reply, edit, remove, report, answer, react, watch)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from communities import moderation, permissions, safety, services, wording
from communities.forms import (
    EditPostForm,
    FlagForm,
    ReactionForm,
    RemovalForm,
    ReplyForm,
    TopicForm,
    WatchLevelForm,
)
from communities.manage_forms import SlowModeForm
from communities.models import (
    ContentStatus,
    Post,
    ReactionKind,
    Topic,
    TopicKind,
    Visibility,
    WatchLevel,
)
from communities.selectors import (
    access_post,
    access_readable_community,
    access_topic,
    access_topic_page,
    can_moderate,
    curated_tags,
    is_active_community_member,
    post_of_topic,
    topic_posts,
)
from communities.views.rendering import _render
from core.errors import DomainError
from core.forms import add_error_details_to_form
from members.requests import request_member
from members.selectors import attach_display_names
from tenants.requests import request_tenant

REACTIONS = [(kind.value, kind.label, services.REACTION_COUNTERS[kind]) for kind in ReactionKind]


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
                add_error_details_to_form(form, error, message_on_field=True)
                status = error.http_status
            except DomainError as error:
                add_error_details_to_form(form, error, message_on_field=True)
            else:
                if topic.status == ContentStatus.HELD:
                    messages.info(request, wording.POST_HELD)
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
            add_error_details_to_form(form, error, message_on_field=True)
            return _topic_page(request, topic, reply_form=form, status=error.http_status)
        except DomainError as error:
            add_error_details_to_form(form, error, message_on_field=True)
        else:
            if post.status == ContentStatus.HELD:
                messages.info(request, wording.POST_HELD)
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
                add_error_details_to_form(form, error, message_on_field=True)
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
            add_error_details_to_form(form, error, message_on_field=True)
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
            add_error_details_to_form(form, error, message_on_field=True)
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
