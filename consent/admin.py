"""Platform-staff admin: purposes, publishing policy versions, a read-only ledger, on-behalf records."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from consent import services
from consent.models import ConsentPolicy, ConsentPurpose, ConsentRecord, ConsentSubject, PolicyPurpose
from core.admin import ReadOnlyModelAdmin
from core.errors import DomainError
from members.models import Member
from members.requests import request_member
from tenants.models import Tenant


class ServiceErrorsAsMessages:
    """A service's refusal (DomainError) becomes an admin error message instead of a server error."""

    def _changeform_view(
        self, request: HttpRequest, object_id: str | None, form_url: str, extra_context: dict[str, Any] | None
    ) -> HttpResponse:
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        except DomainError as exc:
            messages.error(request, f"{exc.message} {exc.details}")
            return HttpResponseRedirect(request.get_full_path())


@admin.register(ConsentPurpose)
class ConsentPurposeAdmin(ServiceErrorsAsMessages, admin.ModelAdmin[ConsentPurpose]):
    list_display = ["code", "name", "active", "fhir_scope", "act_reason", "position"]
    list_filter = ["active", "fhir_scope"]

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentPurpose | None = None) -> list[str]:
        # A purpose's meaning is fixed once decisions refer to it: its code never changes.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ConsentPurpose, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.update_purpose(
                purpose=obj,
                name=data["name"],
                description=data["description"],
                active=data["active"],
                fhir_scope=data["fhir_scope"],
                act_reason=data["act_reason"],
                position=data["position"],
            )
            return
        added = services.add_purpose(
            code=data["code"],
            name=data["name"],
            description=data["description"],
            fhir_scope=data["fhir_scope"],
            act_reason=data["act_reason"],
        )
        if not data["active"] or data["position"] != added.position:
            added = services.update_purpose(
                purpose=added,
                name=added.name,
                description=added.description,
                active=data["active"],
                fhir_scope=added.fhir_scope,
                act_reason=added.act_reason,
                position=data["position"],
            )
        obj.pk = added.pk


class PublishPolicyForm(forms.ModelForm[ConsentPolicy]):
    covered = forms.ModelMultipleChoiceField(
        queryset=ConsentPurpose.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        label="Purposes covered",
    )
    material = forms.ModelMultipleChoiceField(
        queryset=ConsentPurpose.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Purposes materially changed (members who agreed before are asked again)",
    )

    class Meta:
        model = ConsentPolicy
        fields = ["text_markdown", "effective_at", "change_summary"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if set(data.get("material") or []) - set(data.get("covered") or []):
            raise ValidationError({"material": "A materially changed purpose must be covered."})
        latest = ConsentPolicy.objects.order_by("-version").first()
        effective_at = data.get("effective_at")
        if latest is not None and effective_at is not None and effective_at < latest.effective_at:
            raise ValidationError({"effective_at": f"Cannot take effect before version {latest.version}."})
        if latest is None and data.get("material"):
            raise ValidationError({"material": "The first version has nothing to change."})
        return data


class PolicyPurposeInline(admin.TabularInline[PolicyPurpose, ConsentPolicy]):
    model = PolicyPurpose
    extra = 0
    can_delete = False
    readonly_fields = ["purpose", "material_change"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConsentPolicy)
class ConsentPolicyAdmin(ServiceErrorsAsMessages, admin.ModelAdmin[ConsentPolicy]):
    """Publishing goes through ``publish_policy``; a published version is never edited."""

    form = PublishPolicyForm
    list_display = ["version", "effective_at", "change_summary", "published_by", "published_at"]
    readonly_fields = ["version", "text_html", "published_by", "published_at"]

    def get_inlines(self, request: HttpRequest, obj: ConsentPolicy | None) -> list[Any]:
        return [PolicyPurposeInline] if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: ConsentPolicy | None = None) -> list[str]:  # type: ignore[override]
        if obj is None:
            return ["text_markdown", "effective_at", "change_summary", "covered", "material"]
        return ["version", "effective_at", "change_summary", "text_html", "published_by", "published_at"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form.base_fields["effective_at"].initial = timezone.now
        return form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ConsentPolicy, form: Any, change: bool) -> None:
        policy = services.publish_policy(
            text_markdown=form.cleaned_data["text_markdown"],
            effective_at=form.cleaned_data["effective_at"],
            change_summary=form.cleaned_data.get("change_summary") or "",
            purposes=form.cleaned_data["covered"],
            material_changes=form.cleaned_data.get("material") or [],
            published_by=request_member(request),
        )
        obj.pk = policy.pk
        obj.version = policy.version

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None  # publish_policy wrote the covered purposes


class OnBehalfForm(forms.Form):
    email = forms.EmailField(label="Member's email")
    purpose = forms.ModelChoiceField(queryset=ConsentPurpose.objects.filter(active=True))
    decision = forms.ChoiceField(choices=[("grant", "Granted"), ("withdraw", "Withdrawn")], widget=forms.RadioSelect)
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.partners(), required=False, label="Tenant (optional)")
    reason = forms.CharField(widget=forms.Textarea, max_length=500, help_text="Why staff record this (required).")


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyModelAdmin[ConsentRecord]):
    """Read-only ledger browser. Staff add a decision only on a member's behalf, with a reason."""

    list_display = ["recorded_at", "subject", "purpose", "decision", "policy", "tenant_schema", "channel"]
    list_filter = ["decision", "channel", "purpose"]
    search_fields = ["subject__pseudonym", "public_id"]
    actions = None
    change_list_template = "admin/consent/consentrecord/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConsentRecord]:
        return super().get_queryset(request).select_related("subject", "purpose", "policy")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in ConsentRecord._meta.fields]

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "record-on-behalf/",
                self.admin_site.admin_view(self.record_on_behalf_view),
                name="consent_consentrecord_on_behalf",
            )
        ]
        return extra + super().get_urls()

    def record_on_behalf_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_staff:  # admin_view already requires staff; kept explicit
            return HttpResponse(status=403)
        form = OnBehalfForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            member = Member.objects.filter(email__iexact=form.cleaned_data["email"].strip()).first()
            if member is None:
                form.add_error("email", "No member has this email address.")
            else:
                try:
                    services.record_consent(
                        member=member,
                        purpose=form.cleaned_data["purpose"],
                        granted=form.cleaned_data["decision"] == "grant",
                        channel="admin",
                        tenant=form.cleaned_data["tenant"],
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except DomainError as exc:
                    form.add_error(None, exc.message)
                else:
                    self.message_user(request, "The decision is recorded on the member's behalf.")
                    return HttpResponseRedirect(reverse("admin:consent_consentrecord_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Record a consent decision on a member's behalf",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/consent/record_on_behalf.html", context)


@admin.register(ConsentSubject)
class ConsentSubjectAdmin(ReadOnlyModelAdmin[ConsentSubject]):
    list_display = ["pseudonym", "member", "created_at"]
    search_fields = ["pseudonym", "member__email"]
    readonly_fields = ["pseudonym", "member", "created_at"]
