"""Admin: opening a member's page requires a reason first (logged, shown to the member);
exports, erasures and the staff-access log are read-only."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode

from core.admin import ReadOnlyModelAdmin
from core.errors import DomainError
from core.forms import add_error_details_to_form
from members.admin import MemberAdmin
from members.models import Member
from members.requests import request_member
from privacy import services
from privacy.forms import StaffErasureForm, StaffReasonForm
from privacy.models import DataExport, ErasureRequest, StaffAccess

SESSION_KEY = "privacy.staff_reasons"


def _reason_is_fresh(request: HttpRequest, member_id: int) -> bool:
    given = request.session.get(SESSION_KEY, {}).get(str(member_id))
    return given is not None and time.time() - given < settings.KINDRED_STAFF_REASON_TTL


class PrivacyMemberAdmin(MemberAdmin):
    """The Member page shows private data (conditions, birth year, region): staff say why first."""

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/reason/",
                self.admin_site.admin_view(self.reason_view),
                name="{}_{}_reason".format(*info),
            ),
            path(
                "<path:object_id>/erase/",
                self.admin_site.admin_view(self.erase_view),
                name="{}_{}_erase".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        member = self.get_object(request, unquote(object_id))
        if member is not None and not _reason_is_fresh(request, member.pk):
            url = reverse("admin:members_member_reason", args=[member.pk])
            return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
        return super().change_view(request, object_id, form_url, extra_context)

    def reason_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        member = self.get_object(request, unquote(object_id))
        if member is None or not self.has_view_or_change_permission(request, member):
            raise Http404
        form = StaffReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.record_staff_access(
                staff=request_member(request),
                member=member,
                reason=form.cleaned_data["reason"],
                what="account page in the admin",
            )
            reasons = dict(request.session.get(SESSION_KEY, {}))
            reasons[str(member.pk)] = time.time()
            request.session[SESSION_KEY] = reasons
            next_url = request.GET.get("next", "")
            change_url = reverse("admin:members_member_change", args=[member.pk])
            return HttpResponseRedirect(next_url if next_url.startswith(change_url) else change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "subject": member,
            "title": "Why do you need this member's data?",
        }
        return TemplateResponse(request, "privacy/admin_reason.html", context)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A member is never deleted row-first: their data lives in every tenant schema. Erasure
        # (the "Erase this account" page) goes schema by schema and deletes the row last.
        return False

    def erase_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        member = self.get_object(request, unquote(object_id))
        if member is None or not request.user.is_superuser:
            raise Http404
        form = StaffErasureForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                erasure = services.request_erasure_for_member(
                    staff=request.user,
                    member=member,
                    keep_posts=form.cleaned_data["keep_posts"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                add_error_details_to_form(form, exc)
            else:
                self.message_user(request, f"The account is closed; erasure {erasure.pseudonym} is under way.")
                return HttpResponseRedirect(reverse("admin:privacy_erasurerequest_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "subject": member,
            "title": "Erase this account",
        }
        return TemplateResponse(request, "privacy/admin_erase.html", context)


admin.site.unregister(Member)
admin.site.register(Member, PrivacyMemberAdmin)


@admin.register(StaffAccess)
class StaffAccessAdmin(ReadOnlyModelAdmin[StaffAccess]):
    list_display = ["accessed_at", "staff_name", "member", "what", "reason"]
    search_fields = ["staff_name", "reason"]


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyModelAdmin[DataExport]):
    list_display = ["public_id", "member", "status", "progress", "created_at", "expires_at", "downloaded_at"]
    list_filter = ["status"]
    fields = ["public_id", "status", "progress", "file_size", "created_at", "finished_at", "expires_at"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyModelAdmin[ErasureRequest]):
    list_display = ["pseudonym", "status", "progress", "attempts", "keep_posts", "reason", "created_at", "finished_at"]
    list_filter = ["status"]
    fields = ["pseudonym", "status", "progress", "attempts", "keep_posts", "reason", "schema_status", "created_at"]
