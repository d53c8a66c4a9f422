"""Platform staff: browse imported trials and watch the ClinicalTrials.gov sync (read-only; imports and
syncs write through trials.services / trials.sync)."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyModelAdmin
from trials.models import SyncRun, Trial


@admin.register(Trial)
class TrialAdmin(ReadOnlyModelAdmin[Trial]):
    list_display = ("nct_id", "brief_title", "overall_status", "study_type", "site_count", "last_update_posted")
    list_filter = ("overall_status", "study_type")
    search_fields = ("nct_id", "brief_title")
    exclude = ("raw_json", "search_text", "condition_text")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyModelAdmin[SyncRun]):
    list_display = (
        "pk", "status", "since", "run_date", "condition_index", "pages", "created", "updated", "unchanged",
        "rejected", "retries", "attempts", "started_at", "finished_at",
    )  # fmt: skip
    list_filter = ("status",)
