from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyModelAdmin
from core.errors import DomainError
from members import services
from members.models import Member, PlatformSuspension, RoleChange, TenantMembership
from members.requests import request_member


class MembershipInline(admin.TabularInline[TenantMembership, Member]):
    model = TenantMembership
    extra = 0
    fields = ["tenant", "role", "joined_at"]
    readonly_fields = ["tenant", "role", "joined_at"]
    can_delete = False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin[Member]):
    list_display = ["email", "display_name", "role", "is_staff", "email_verified_at", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "role"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["public_id", "last_login", "date_joined", "session_generation", "password"]
    fields = [
        "public_id", "email", "display_name", "role", "birth_year", "country", "region", "is_active",
        "is_staff", "is_superuser", "email_verified_at", "last_login", "date_joined", "session_generation",
    ]  # fmt: skip
    inlines = [MembershipInline]
    exclude = ["groups", "user_permissions", "conditions"]


@admin.register(RoleChange)
class RoleChangeAdmin(ReadOnlyModelAdmin[RoleChange]):
    list_display = ["membership_member", "tenant", "old_role", "new_role", "changed_by", "changed_at"]
    list_filter = ["tenant", "new_role"]


class PlatformSuspensionForm(forms.ModelForm[PlatformSuspension]):
    days = forms.IntegerField(
        min_value=1, max_value=services.SUSPENSION_DAYS_MAX, required=False, help_text="Leave empty: until lifted."
    )

    acting_member: Member | None = None  # set by the admin for the request

    class Meta:
        model = PlatformSuspension
        fields = ["member", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        member = data.get("member")
        if member is not None and self.acting_member is not None:
            try:
                services.check_platform_suspension(
                    acting_member=self.acting_member,
                    member=member,
                    reason=data.get("reason", ""),
                    days=data.get("days"),
                )
            except DomainError as error:
                raise forms.ValidationError(error.message) from error
        return data


@admin.register(PlatformSuspension)
class PlatformSuspensionAdmin(admin.ModelAdmin[PlatformSuspension]):
    """Platform staff suspend a member everywhere (members.services.suspend_platform_wide); rows are
    the record: they are never edited or deleted, only lifted."""

    form = PlatformSuspensionForm
    list_display = ["member", "reason", "starts_at", "ends_at", "lifted_at", "created_by"]
    list_filter = ["lifted_at"]
    search_fields = ["member__email", "member__display_name"]
    raw_id_fields = ["member"]
    actions = ["lift"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        # The form checks the suspension with the service's rules before anything is saved.
        return type(form.__name__, (form,), {"acting_member": request.user})

    def save_model(self, request: HttpRequest, obj: PlatformSuspension, form: Any, change: bool) -> None:
        saved = services.suspend_platform_wide(
            acting_member=request_member(request),
            member=obj.member,
            reason=obj.reason,
            days=form.cleaned_data.get("days"),
        )
        obj.pk, obj.starts_at, obj.ends_at = saved.pk, saved.starts_at, saved.ends_at

    @admin.action(description="Lift the selected suspensions now")
    def lift(self, request: HttpRequest, queryset: QuerySet[PlatformSuspension]) -> None:
        for suspension in queryset.filter(lifted_at__isnull=True).select_related("member"):
            services.lift_platform_suspension(acting_member=request_member(request), member=suspension.member)
