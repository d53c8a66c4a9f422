"""Platform staff: browse imported trials and watch the ClinicalTrials.gov sync (read-only; imports and
syncs write through trials.services / trials.sync)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from trials.models import SyncRun, Trial


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Trial)
class TrialAdmin(ReadOnlyAdmin):
    list_display = ("nct_id", "brief_title", "overall_status", "study_type", "site_count", "last_update_posted")
    list_filter = ("overall_status", "study_type")
    search_fields = ("nct_id", "brief_title")
    exclude = ("raw_json", "search_text", "condition_text")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "pk", "status", "since", "run_date", "condition_index", "pages", "created", "updated", "unchanged",
        "rejected", "retries", "attempts", "started_at", "finished_at",
    )  # fmt: skip
    list_filter = ("status",)
