from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from directory.models import DirectoryEntry


@admin.register(DirectoryEntry)
class DirectoryEntryAdmin(admin.ModelAdmin[DirectoryEntry]):
    """Read-only: entries follow the partners' communities (directory.services); `rebuild_directory` repairs them."""

    list_display = ["name", "tenant", "community_slug", "visibility", "updated_at"]
    list_filter = ["visibility", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["name", "community_slug", "tenant__name"]
    readonly_fields = ["tenant", "community_slug", "name", "description", "conditions", "visibility", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DirectoryEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DirectoryEntry | None = None) -> bool:
        return False
