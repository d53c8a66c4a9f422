from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyModelAdmin
from directory.models import DirectoryEntry


@admin.register(DirectoryEntry)
class DirectoryEntryAdmin(ReadOnlyModelAdmin[DirectoryEntry]):
    """Read-only: entries follow the partners' communities (directory.services); `rebuild_directory` repairs them."""

    list_display = ["name", "tenant", "community_slug", "visibility", "updated_at"]
    list_filter = ["visibility", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["name", "community_slug", "tenant__name"]
    readonly_fields = ["tenant", "community_slug", "name", "description", "conditions", "visibility", "updated_at"]
