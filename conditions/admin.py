from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from conditions.models import Condition


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin[Condition]):
    """Browse the taxonomy; changes go through conditions/taxonomy.json, where the next load would win anyway."""

    list_display = ["name", "mesh_id", "category", "parent"]
    list_filter = ["category"]
    list_select_related = ["parent"]
    # synonyms is an array: Django's icontains casts it to text, which is good enough for staff lookups.
    search_fields = ["name", "mesh_id", "synonyms"]
    ordering = ["name"]
    readonly_fields = [
        "mesh_id",
        "name",
        "slug",
        "category",
        "category_code",
        "parent",
        "tree_numbers",
        "synonyms",
        "icd10_codes",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Condition | None = None) -> bool:
        # Memberships, communities and trials refer to conditions; removing one is a data migration, not a click.
        return False
