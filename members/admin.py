from __future__ import annotations

from django.contrib import admin

from members.models import Member, RoleChange, TenantMembership


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
class RoleChangeAdmin(admin.ModelAdmin[RoleChange]):
    list_display = ["membership_member", "tenant", "old_role", "new_role", "changed_by", "changed_at"]
    list_filter = ["tenant", "new_role"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
