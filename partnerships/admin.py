"""Platform staff manage partners and agreements here; every write goes through partnerships.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.errors import DomainError
from members.requests import request_member
from members.services import invite_to_tenant
from partnerships import services
from partnerships.models import AgreementEvent, Invoice, Partner, PartnershipAgreement, StudyInvitation
from tenants.admin import ProvisionTenantForm, TenantAdmin
from tenants.models import Tenant


def _report(request: HttpRequest, exc: DomainError) -> None:
    details = "; ".join(f"{key}: {' '.join(map(str, value))}" for key, value in exc.details.items())
    messages.error(request, f"{exc.message} {details}".strip())


class AgreementInline(admin.TabularInline[PartnershipAgreement, Partner]):
    model = PartnershipAgreement
    fk_name = "partner"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["kind", "status", "starts_on", "ends_on", "fee_display", "payment_state", "tenant"]
    readonly_fields = ["kind", "status", "starts_on", "ends_on", "fee_display", "payment_state", "tenant"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Fee")
    def fee_display(self, obj: PartnershipAgreement) -> str:
        return obj.fee_display

    @admin.display(description="Invoices")
    def payment_state(self, obj: PartnershipAgreement) -> str:
        invoices = list(obj.invoices.all()[:3])
        return ", ".join(f"{inv.stripe_invoice_id}: {inv.status}" for inv in invoices) or "none yet"


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin[Partner]):
    list_display = ["name", "kind", "billing_email", "stripe_customer_id", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "billing_email", "contact_email"]
    fields = [
        "name", "kind", "contact_name", "contact_email", "contact_phone", "billing_email", "representatives",
        "audit_log",
    ]  # fmt: skip
    autocomplete_fields = ["representatives"]
    readonly_fields = ["audit_log"]
    inlines = [AgreementInline]

    @admin.display(description="Audit log (every change to this partner's agreements)")
    def audit_log(self, obj: Partner) -> str:
        if obj.pk is None:
            return "—"
        events = AgreementEvent.objects.filter(agreement__partner=obj).select_related("actor")[:50]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{event.created_at:%Y-%m-%d %H:%M}",
                    event.agreement_id,
                    event.actor or event.source,
                    event.old_status or "—",
                    event.new_status,
                    event.action,
                    event.reason,
                )
                for event in events
            ),
        )
        return format_html(
            "<table><tr><th>When</th><th>Agreement</th><th>Who</th><th>Status</th><th>What</th><th>Why</th></tr>"
            "{}</table>",
            rows,
        )

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        editable = set(services.PARTNER_FIELDS)
        fields = {key: form.cleaned_data[key] for key in form.changed_data if key in editable}
        if not change:
            fields = {key: form.cleaned_data.get(key, "") for key in editable if key in form.cleaned_data}
        saved = services.save_partner(actor=request_member(request), partner=obj if change else None, **fields)
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if "representatives" in form.changed_data:
            services.set_partner_representatives(
                partner=form.instance,
                member_ids=[m.pk for m in form.cleaned_data["representatives"]],
                actor=request_member(request),
            )

    def has_delete_permission(self, request: HttpRequest, obj: Partner | None = None) -> bool:
        return False


class AgreementEventInline(admin.TabularInline[AgreementEvent, PartnershipAgreement]):
    model = AgreementEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "actor", "source", "action", "old_status", "new_status", "changes", "reason"]
    readonly_fields = ["created_at", "actor", "source", "action", "old_status", "new_status", "changes", "reason"]
    verbose_name_plural = "audit log"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvoiceInline(admin.TabularInline[Invoice, PartnershipAgreement]):
    model = Invoice
    extra = 0
    can_delete = False
    fields = ["stripe_invoice_id", "status", "amount_due", "amount_paid", "currency", "hosted_invoice_url"]
    readonly_fields = ["stripe_invoice_id", "status", "amount_due", "amount_paid", "currency", "hosted_invoice_url"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AgreementForm(forms.ModelForm[PartnershipAgreement]):
    reason = forms.CharField(max_length=500, required=False, help_text="Why (kept in the audit log).")

    class Meta:
        model = PartnershipAgreement
        fields = [
            "partner", "beneficiary", "kind", "starts_on", "ends_on", "fee_cents", "currency", "interval",
            "tenant_name", "tenant_slug", "theme_primary_colour", "first_admin_email", "tenants", "conditions",
            "consent_purposes", "recipients", "signed_document", "notes",
        ]  # fmt: skip


SCOPE_FIELDS = {"tenants", "conditions", "consent_purposes"}


@admin.register(PartnershipAgreement)
class AgreementAdmin(admin.ModelAdmin[PartnershipAgreement]):
    form = AgreementForm
    list_display = ["__str__", "kind", "status", "partner", "tenant", "starts_on", "ends_on", "updated_at"]
    list_filter = ["status", "kind"]
    search_fields = ["partner__name", "tenant_name", "tenant_slug"]
    autocomplete_fields = ["partner", "beneficiary", "recipients"]
    filter_horizontal = ["tenants", "conditions", "consent_purposes"]
    readonly_fields = [
        "status", "tenant", "provisioning_progress", "provisioning_error", "payment_link_url",
        "stripe_subscription_id", "past_due_since", "archive", "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [InvoiceInline, AgreementEventInline]
    actions = ["activate", "retry_provisioning", "send_payment_link", "suspend", "end"]

    @admin.display(description="Partner archive")
    def archive(self, obj: PartnershipAgreement) -> str:
        if not obj.archive_path:
            return "Made when the agreement ends."
        url = reverse("partner-archive", kwargs={"public_id": obj.public_id})
        return format_html('<a href="{}">Download the partner\'s archive</a>', url)

    def get_readonly_fields(self, request: HttpRequest, obj: PartnershipAgreement | None = None) -> Any:
        if obj is not None:
            return [*self.readonly_fields, "partner"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: PartnershipAgreement, form: Any, change: bool) -> None:
        data = form.cleaned_data
        reason = data.get("reason", "")
        fields = {key: data[key] for key in form.changed_data if key in services.DRAFT_FIELDS}
        try:
            if change:
                saved = services.update_agreement(actor=request_member(request), agreement=obj, reason=reason, **fields)
            else:
                terms = {key: data[key] for key in services.DRAFT_FIELDS if key in data}
                saved = services.create_agreement(
                    actor=request_member(request), partner=data["partner"], reason=reason, **terms
                )
        except DomainError as exc:
            _report(request, exc)
            # Refetch so the admin's redirect and related-field saving see the stored row, unchanged.
            if change:
                obj.refresh_from_db()
            return
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        agreement = form.instance
        if agreement.pk is None:
            return
        # The inlines are read-only (no add, change or delete): saving them writes nothing, but the admin's
        # change message reads what they saved (without this, every save of the form crashed).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        data = form.cleaned_data
        changed = SCOPE_FIELDS & set(form.changed_data)
        if changed:
            try:
                services.set_agreement_scope(
                    actor=request_member(request),
                    agreement=agreement,
                    tenant_ids=[t.pk for t in data["tenants"]] if "tenants" in changed else None,
                    condition_ids=[c.pk for c in data["conditions"]] if "conditions" in changed else None,
                    purpose_codes=[p.code for p in data["consent_purposes"]] if "consent_purposes" in changed else None,
                    reason=data.get("reason", ""),
                )
            except DomainError as exc:
                _report(request, exc)
        if "recipients" in form.changed_data:
            try:
                services.set_agreement_recipients(
                    actor=request_member(request),
                    agreement=agreement,
                    member_ids=[m.pk for m in data["recipients"]],
                    reason=data.get("reason", ""),
                )
            except DomainError as exc:
                _report(request, exc)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # agreements end; they are never deleted (the audit log points at them)

    def _each(self, request: HttpRequest, queryset: QuerySet[PartnershipAgreement], fn: Any, done: str) -> None:
        for agreement in queryset:
            try:
                fn(agreement)
            except DomainError as exc:
                _report(request, exc)
            else:
                messages.success(request, f"{done}: {agreement}")

    @admin.action(description="Activate (provision the community and invite its admin)")
    def activate(self, request: HttpRequest, queryset: QuerySet[PartnershipAgreement]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.activate_agreement(actor=request_member(request), agreement_id=a.pk),
            "Activation started",
        )

    @admin.action(description="Retry failed provisioning")
    def retry_provisioning(self, request: HttpRequest, queryset: QuerySet[PartnershipAgreement]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.retry_provisioning(actor=request_member(request), agreement_id=a.pk),
            "Provisioning queued again",
        )

    @admin.action(description="Bill through Stripe and email the payment link")
    def send_payment_link(self, request: HttpRequest, queryset: QuerySet[PartnershipAgreement]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.start_billing(actor=request_member(request), agreement_id=a.pk),
            "Billing started",
        )

    @admin.action(description="Suspend (sponsor branding off; members keep access)")
    def suspend(self, request: HttpRequest, queryset: QuerySet[PartnershipAgreement]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.suspend_agreement(
                actor=request_member(request),
                agreement_id=a.pk,
                reason=f"Suspended by {request.user} in the admin",
            ),
            "Suspended",
        )

    @admin.action(description="End (the community stays, read-only)")
    def end(self, request: HttpRequest, queryset: QuerySet[PartnershipAgreement]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.end_agreement(
                actor=request_member(request),
                agreement_id=a.pk,
                reason=f"Ended by {request.user} in the admin",
            ),
            "Ended",
        )


class ProvisionWithAdminForm(ProvisionTenantForm):
    first_admin_email = forms.EmailField(help_text="The partner's first admin, invited by email.")


class PartnerTenantAdmin(TenantAdmin):
    """The staff provisioning form also names the partner's first admin, who is invited by email."""

    def get_form(self, request: HttpRequest, obj: Tenant | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ProvisionWithAdminForm
        return super(TenantAdmin, self).get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Tenant | None = None) -> Any:
        if obj is None:
            return ["name", "slug", "domain", "tagline", "first_admin_email"]
        return super().get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            tenant = Tenant.objects.get(pk=obj.pk)
            invite_to_tenant(
                tenant=tenant, email=form.cleaned_data["first_admin_email"], invited_by=request_member(request)
            )
            messages.info(request, f"Invited {form.cleaned_data['first_admin_email']} as the community's admin.")


@admin.register(StudyInvitation)
class StudyInvitationAdmin(admin.ModelAdmin[StudyInvitation]):
    list_display = ["title", "agreement", "tenant", "status", "recipients", "created_at", "sent_at"]
    list_filter = ["status"]
    readonly_fields = [
        "agreement", "tenant", "title", "summary", "eligibility", "contact", "ethics_approval_ref", "status",
        "submitted_by", "staff_approved_by", "tenant_approved_by", "recipients", "created_at", "sent_at",
    ]  # fmt: skip
    exclude = ["conditions"]
    actions = ["approve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # research partners submit through the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Approve as platform staff (sent once the community's admins approve too)")
    def approve(self, request: HttpRequest, queryset: QuerySet[StudyInvitation]) -> None:
        for study in queryset:
            try:
                services.decide_study_invitation(acting_member=request_member(request), study_id=study.pk, approve=True)
            except DomainError as exc:
                _report(request, exc)
            else:
                messages.success(request, f"Approved: {study.title}")


admin.site.unregister(Tenant)
admin.site.register(Tenant, PartnerTenantAdmin)
