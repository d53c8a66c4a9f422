"""Platform staff see tokens and their audit; nobody edits them here (revoke on the partner's host)."""

from __future__ import annotations

from django.contrib import admin

from apitokens.models import ApiToken, ApiTokenEvent
from core.admin import ReadOnlyModelAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyModelAdmin[ApiToken]):
    list_display = ["prefix", "name", "kind", "tenant", "scopes", "created_at", "expires_at", "revoked_at"]
    list_filter = ["kind", "tenant"]
    search_fields = ["prefix", "name"]
    exclude = ["digest"]


@admin.register(ApiTokenEvent)
class ApiTokenEventAdmin(ReadOnlyModelAdmin[ApiTokenEvent]):
    list_display = ["at", "action", "token_prefix", "tenant", "actor", "via", "scopes"]
    list_filter = ["action", "via", "tenant"]
    search_fields = ["token_prefix"]
