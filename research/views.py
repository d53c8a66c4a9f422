"""Root domain: named research staff define and follow exports; an agreement's recipients download them."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from core.errors import DomainError
from research import selectors, services
from research.forms import ExportForm
from research.services import FILE_NAMES


@login_required
@never_cache
def exports_page(request: HttpRequest) -> HttpResponse:
    member = request.user
    can_run = selectors.can_run_exports(member)
    exports = selectors.exports_visible_to(member=member)[:100]
    if not can_run and not exports:
        raise Http404
    form = ExportForm(request.POST or None) if can_run else None
    context: dict[str, Any] = {"form": form, "exports": exports, "can_run": can_run, "error": "", "error_details": {}}
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                export = services.define_export(actor=member, channel="web", **form.service_kwargs())
            except DomainError as exc:
                context.update(error=exc.message, error_details=exc.details)
                return render(request, "research/exports.html", context, status=exc.http_status)
            return redirect("research-export", public_id=export.public_id)
        return render(request, "research/exports.html", context, status=400)
    return render(request, "research/exports.html", context)


@login_required
@never_cache
def release_page(request: HttpRequest, public_id: str) -> HttpResponse:
    member = request.user
    export = selectors.release_for(member=member, public_id=public_id)
    if export is None:
        raise Http404
    links = []
    if selectors.is_recipient(member, export.agreement) and export.status == "ready":
        for name in FILE_NAMES:
            token = services.issue_download_link(member=member, export=export, name=name, channel="web")
            links.append((name, reverse("research-download", args=[token])))
    context = {
        "export": export,
        "links": links,
        "link_hours": settings.KINDRED_RESEARCH_LINK_TTL // 3600,
        "manifest_text": json.dumps(export.manifest, indent=2, sort_keys=True),
        "events": selectors.events_for(export=export)[:50] if selectors.can_run_exports(member) else [],
    }
    return render(request, "research/export.html", context)


@login_required
@never_cache
def download(request: HttpRequest, token: str) -> HttpResponse:
    try:
        file, content = services.open_download(member=request.user, token=token)
    except DomainError as exc:
        return render(request, "research/link_problem.html", {"message": exc.message}, status=exc.http_status)
    content_type = {"csv": "text/csv", "json": "application/json", "html": "text/html"}[file.name.rsplit(".", 1)[1]]
    response = HttpResponse(content, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file.export.public_id}-{file.name}"'
    response["Cache-Control"] = "private, no-store"
    return response
