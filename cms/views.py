"""Tenant-host views of the partner's pages that are not Wagtail pages themselves: members' questions
and votes for expert sessions, the tenant's media files, and the embeddable feed. Thin: selectors
read, services write."""

from __future__ import annotations

import mimetypes
import posixpath
from typing import Any

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_POST

from cms import selectors, services
from cms.models import ExpertQuestion, ExpertSessionPage
from core.errors import DomainError
from members.requests import request_member
from tenants.requests import request_tenant

# Wagtail documents are served only through /documents/<id>/<name> (which checks the document's
# collection privacy); the files behind them are never reachable by their storage path.
UNSERVED_MEDIA_FOLDERS = ("documents/",)


def _back_to_session(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        session = selectors.access_session(
            member=request_member(request), tenant=request_tenant(request), session_id=session_id
        )
    except DomainError:
        return redirect("/")
    return redirect(session.url or "/")


def _session(request: HttpRequest, session_id: int) -> ExpertSessionPage:
    try:
        return selectors.access_session(
            member=request_member(request), tenant=request_tenant(request), session_id=session_id
        )
    except DomainError as error:
        raise Http404(error.message) from error


def _question(request: HttpRequest, question_id: int) -> ExpertQuestion:
    try:
        return selectors.access_question(
            member=request_member(request), tenant=request_tenant(request), question_id=question_id
        )
    except DomainError as error:
        raise Http404(error.message) from error


@require_GET
def serve_media(request: HttpRequest, path: str) -> HttpResponseBase:
    """A file of this tenant's media (images and their renditions). Each tenant's files live under a
    folder named after its schema (``/media/<schema>/...``): any other tenant's folder, a path that
    climbs out, and document files are a 404 here, whichever file exists on disk."""
    schema = connection.schema_name  # type: ignore[attr-defined]
    normalised = posixpath.normpath(path)
    prefix = f"{schema}/"
    if normalised != path or not normalised.startswith(prefix) or ".." in normalised.split("/"):
        raise Http404("No such file.")
    relative = normalised[len(prefix) :]
    if not relative or relative.startswith(UNSERVED_MEDIA_FOLDERS):
        raise Http404("No such file.")
    # The tenant's storage resolves names inside this schema's folder only.
    if not default_storage.exists(relative):
        raise Http404("No such file.")
    content_type, _ = mimetypes.guess_type(relative)
    response = FileResponse(
        default_storage.open(relative, "rb"), content_type=content_type or "application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, max_age=3600)
    return response


@login_required
@require_POST
def session_question_submit(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id)
    try:
        services.submit_question(
            member=request_member(request),
            tenant=request_tenant(request),
            session=session,
            body=request.POST.get("body", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your question was added. Others can now upvote it.")
    return redirect(session.url or "/")


@login_required
@require_POST
def question_vote(request: HttpRequest, question_id: int) -> HttpResponse:
    question = _question(request, question_id)
    try:
        services.toggle_vote(member=request_member(request), tenant=request_tenant(request), question=question)
    except DomainError as error:
        messages.error(request, error.message)
    return _back_to_session(request, question.session_id)


@login_required
@require_POST
def question_answer(request: HttpRequest, question_id: int) -> HttpResponse:
    question = _question(request, question_id)
    try:
        services.answer_question(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            question=question,
            answer=request.POST.get("answer", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The answer is on the transcript and highlighted in the community.")
    return _back_to_session(request, question.session_id)


def _feed_context(request: HttpRequest) -> dict[str, Any]:
    limit = request.GET.get("limit", "")
    items = selectors.embed_feed(limit=int(limit) if limit.isdigit() else 10)
    return {"items": items, "tenant": request_tenant(request), "base": request.build_absolute_uri("/").rstrip("/")}


@require_GET
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
def embed_feed(request: HttpRequest) -> HttpResponse:
    """The iframe of the tenant's open communities' latest topics, for the partner's own website.
    Only this route may be framed by other sites; it shows what any signed-out reader sees."""
    response = render(request, "cms/embed_feed.html", _feed_context(request))
    patch_cache_control(response, public=True, max_age=60)
    return response


@require_GET
def embed_script(request: HttpRequest) -> HttpResponse:
    """A small script for the partner's site: it puts the feed's iframe where the script tag is."""
    src = request.build_absolute_uri(reverse("embed-feed"))
    body = (
        "(function(){var s=document.currentScript;var f=document.createElement('iframe');"
        f"f.src={src!r};f.title='Latest conversations';f.loading='lazy';"
        "f.style.width='100%';f.style.minHeight='420px';f.style.border='0';"
        "s.parentNode.insertBefore(f,s.nextSibling);})();\n"
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    patch_cache_control(response, public=True, max_age=300)
    return response
