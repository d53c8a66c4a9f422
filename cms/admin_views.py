"""Views in the tenant's Wagtail admin for its administrators: the stale-review report, partner
insights, member invitations (email or CSV) and the embeddable feed snippet. Thin: selectors read,
services write; every view checks the tenant admin role (the MFA middleware guards /admin/ too)."""

from __future__ import annotations

import csv
import json
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cms import selectors, services
from core.errors import DomainError
from members.models import Member
from members.selectors import can_administer_tenant
from tenants.models import Tenant


def _admin(request: HttpRequest) -> tuple[Member, Tenant]:
    member = cast(Member, request.user)
    tenant = cast(Tenant, request.tenant)  # type: ignore[attr-defined]
    if not member.is_authenticated or not can_administer_tenant(member=member, tenant=tenant):
        raise PermissionDenied("Only this site's administrators can open this page.")
    return member, tenant


def _csv_response(filename: str, header: list[str], rows: list[list[str]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def stale_report(request: HttpRequest) -> HttpResponse:
    _admin(request)
    today = timezone.localdate()
    resources = list(selectors.stale_resources(today=today))
    if request.GET.get("format") == "csv":
        return _csv_response(
            "stale-resources.csv",
            ["title", "url", "reviewed_at", "reviewed_by", "live"],
            [
                [r.title, r.url or "", r.reviewed_at.isoformat() if r.reviewed_at else "", r.reviewed_by, str(r.live)]
                for r in resources
            ],
        )
    return render(request, "cms/admin/stale_report.html", {"resources": resources, "today": today})


def _bars(rows: list[dict[str, Any]], *, label_key: str) -> list[dict[str, Any]]:
    """Bar widths in percent; a suppressed cell ("<11") is drawn as 10 and marked."""
    values = [10 if isinstance(row["count"], str) else int(row["count"]) for row in rows]
    top = max([*values, 1])
    return [
        {
            "label": row[label_key],
            "display": row["count"],
            "percent": round(100 * value / top),
            "suppressed": isinstance(row["count"], str),
        }
        for row, value in zip(rows, values, strict=True)
    ]


def insights(request: HttpRequest) -> HttpResponse:
    _member, tenant = _admin(request)
    data = selectors.partner_insights(tenant=tenant)
    series = request.GET.get("series")
    if series:
        header, rows = selectors.insight_csv_rows(insights=data, series=series)
        return _csv_response(f"{series}.csv", header, rows)
    charts = [
        {"key": key, "title": title, "bars": _bars(data[key], label_key="week")}
        for key, title in selectors.INSIGHT_SERIES.items()
    ]
    return render(
        request,
        "cms/admin/insights.html",
        {
            "charts": charts,
            "unanswered": data["questions_without_replies"],
            "top_tags": _bars(data["top_tags"], label_key="tag"),
        },
    )


def invitations(request: HttpRequest) -> HttpResponse:
    member, tenant = _admin(request)
    context: dict[str, Any] = {}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "send":
                emails = json.loads(request.POST.get("emails_json") or "[]")
                if not isinstance(emails, list):
                    emails = []
                result = services.send_invitations(acting_member=member, tenant=tenant, emails=[str(e) for e in emails])
                messages.success(request, f"Sent {len(result.valid)} invitation(s); {len(result.invalid)} skipped.")
                return redirect(request.path)
            upload = request.FILES.get("file")
            if upload is not None:
                emails = services.parse_invitation_csv(data=upload.read(services.INVITE_CSV_MAX_BYTES + 1))
            else:
                emails = [line for line in (request.POST.get("emails") or "").splitlines() if line.strip()]
            preview = services.preview_invitations(acting_member=member, tenant=tenant, emails=emails)
            context = {"preview": preview, "emails_json": json.dumps([row.email for row in preview.valid])}
        except DomainError as error:
            messages.error(request, error.message)
    return render(request, "cms/admin/invitations.html", context)


def embed(request: HttpRequest) -> HttpResponse:
    _admin(request)
    base = request.build_absolute_uri("/").rstrip("/")
    return render(
        request,
        "cms/admin/embed.html",
        {
            "iframe": f'<iframe src="{base}/embed/feed/" title="Latest conversations" loading="lazy" '
            'style="width:100%;min-height:420px;border:0"></iframe>',
            "script": f'<script src="{base}/embed/feed.js" async></script>',
            "preview_url": reverse("embed-feed"),
        },
    )
