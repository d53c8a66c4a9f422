"""Platform staff see tokens and their audit; nobody edits them here (revoke on the partner's host)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apitokens.models import ApiToken, ApiTokenEvent


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "name", "kind", "tenant", "scopes", "created_at", "expires_at", "revoked_at"]
    list_filter = ["kind", "tenant"]
    search_fields = ["prefix", "name"]
    exclude = ["digest"]


@admin.register(ApiTokenEvent)
class ApiTokenEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "token_prefix", "tenant", "actor", "via", "scopes"]
    list_filter = ["action", "via", "tenant"]
    search_fields = ["token_prefix"]
