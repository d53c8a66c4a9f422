"""Clinical trials imported from ClinicalTrials.gov (public schema: the same for every tenant).

A Trial keeps every field a person filters or reads as columns, and the whole original API v2 record
in ``raw`` so a later feature can read any other field without a re-import. Sites carry their geo
point (nullable: a site without one is never "near"). ``TrialCondition`` links a trial to the
platform's condition taxonomy through the MeSH terms (and MeSH ancestors) of its derived section:
the indexed join table the condition filter goes through.

Members' saved trials, alerts and notices live here too (they point at public rows only), so the
trials app never needs a tenant schema.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q


class OverallStatus(models.TextChoices):
    RECRUITING = "RECRUITING", "Recruiting"
    NOT_YET_RECRUITING = "NOT_YET_RECRUITING", "Not yet recruiting"
    ENROLLING_BY_INVITATION = "ENROLLING_BY_INVITATION", "Enrolling by invitation"
    ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING", "Active, not recruiting"
    SUSPENDED = "SUSPENDED", "Suspended"
    TERMINATED = "TERMINATED", "Terminated"
    COMPLETED = "COMPLETED", "Completed"
    WITHDRAWN = "WITHDRAWN", "Withdrawn"
    AVAILABLE = "AVAILABLE", "Available (expanded access)"
    NO_LONGER_AVAILABLE = "NO_LONGER_AVAILABLE", "No longer available"
    TEMPORARILY_NOT_AVAILABLE = "TEMPORARILY_NOT_AVAILABLE", "Temporarily not available"
    APPROVED_FOR_MARKETING = "APPROVED_FOR_MARKETING", "Approved for marketing"
    WITHHELD = "WITHHELD", "Withheld"
    UNKNOWN = "UNKNOWN", "Unknown"


OPEN_STATUSES = (OverallStatus.RECRUITING, OverallStatus.NOT_YET_RECRUITING)

PHASE_LABELS = {
    "EARLY_PHASE1": "Early phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
    "NA": "Not applicable",
}
STUDY_TYPES = {
    "INTERVENTIONAL": "Interventional",
    "OBSERVATIONAL": "Observational",
    "EXPANDED_ACCESS": "Expanded access",
}


class Trial(models.Model):
    nct_id = models.CharField(max_length=11, unique=True)
    brief_title = models.CharField(max_length=500)
    official_title = models.TextField(blank=True)
    brief_summary = models.TextField(blank=True)
    # Indexed as the first column of trial_status_type (a separate index would only slow imports).
    overall_status = models.CharField(max_length=32)
    phases = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    study_type = models.CharField(max_length=32, blank=True)
    conditions = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    keywords = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    # [{"id": "D003920", "term": "Diabetes Mellitus"}] from derivedSection.conditionBrowseModule.meshes
    mesh_terms = models.JSONField(default=list, blank=True)
    mesh_ancestors = models.JSONField(default=list, blank=True)
    # [{"type": "DRUG", "name": "Muraglitazar", "description": "..."}]
    interventions = models.JSONField(default=list, blank=True)
    eligibility_criteria = models.TextField(blank=True)
    sex = models.CharField(max_length=8, blank=True)  # ALL / FEMALE / MALE
    minimum_age_years = models.FloatField(null=True, blank=True)
    maximum_age_years = models.FloatField(null=True, blank=True)
    minimum_age_text = models.CharField(max_length=40, blank=True)
    maximum_age_text = models.CharField(max_length=40, blank=True)
    healthy_volunteers = models.BooleanField(null=True, blank=True)
    lead_sponsor = models.CharField(max_length=300, blank=True)
    start_date = models.DateField(null=True, blank=True)
    completion_date = models.DateField(null=True, blank=True)
    first_posted = models.DateField(null=True, blank=True)
    last_update_posted = models.DateField()
    # [{"name", "role", "phone", "phoneExt", "email"}]
    central_contacts = models.JSONField(default=list, blank=True)
    site_count = models.PositiveIntegerField(default=0)
    # Lower-cased conditions, keywords and MeSH terms / titles, summary and interventions too:
    # substring search through trigram indexes.
    condition_text = models.TextField(blank=True)
    search_text = models.TextField(blank=True)
    # The original API v2 study object, byte for byte as received (JSON text; ``record`` parses it).
    # Text rather than jsonb: storing it is the largest part of an import, and jsonb conversion tripled
    # the server's share; PostgreSQL can still read it with raw_json::jsonb.
    raw_json = models.TextField()
    source = models.CharField(max_length=300, blank=True, help_text="File or URL the current version came from.")
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["nct_id"]
        indexes = [
            GinIndex(fields=["condition_text"], opclasses=["gin_trgm_ops"], name="trial_condition_trgm"),
            GinIndex(fields=["search_text"], opclasses=["gin_trgm_ops"], name="trial_search_trgm"),
            GinIndex(fields=["phases"], name="trial_phases"),
            # Covers the status (and type) filter with the id: candidate trials come from the index alone.
            models.Index(fields=["overall_status", "study_type", "id"], name="trial_status_type"),
        ]

    def __str__(self) -> str:
        return f"{self.nct_id}: {self.brief_title}"

    @property
    def record(self) -> dict[str, Any]:
        return cast(dict[str, Any], json.loads(self.raw_json))

    @property
    def ctgov_url(self) -> str:
        return f"https://clinicaltrials.gov/study/{self.nct_id}"

    @property
    def status_label(self) -> str:
        return (
            OverallStatus(self.overall_status).label
            if self.overall_status in OverallStatus.values
            else self.overall_status
        )

    @property
    def phase_labels(self) -> list[str]:
        return [PHASE_LABELS.get(phase, phase) for phase in self.phases]

    @property
    def is_open(self) -> bool:
        return self.overall_status in OPEN_STATUSES


class TrialSite(models.Model):
    # Looked up through trialsite_trial_geo, whose first column it is.
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="sites", db_index=False)
    position = models.PositiveIntegerField()
    facility = models.CharField(max_length=500, blank=True)
    city = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=200, blank=True)
    zip = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=40, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["trial", "position"]
        # Distance search: a bounding box first through a GiST index on point(lon, lat) (created by the
        # migration: trialsite_geo_gist), then exact haversine on the sites left; per trial, this index.
        indexes = [models.Index(fields=["trial", "lat", "lon"], name="trialsite_trial_geo")]

    def __str__(self) -> str:
        return f"{self.facility or 'site'} ({self.city}, {self.country})"


class TrialCondition(models.Model):
    """A trial ↔ taxonomy condition link, from a MeSH term of the trial (direct) or an ancestor of one."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="condition_links")
    # Looked up through one_trial_condition_link, whose first column it is.
    condition = models.ForeignKey("conditions.Condition", on_delete=models.CASCADE, related_name="+", db_index=False)
    direct = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["condition", "trial"], name="one_trial_condition_link")]

    def __str__(self) -> str:
        return f"{self.trial_id} ~ condition {self.condition_id}"


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (resumes from its checkpoint)"
    ABANDONED = "abandoned", "Abandoned"


class SyncRun(models.Model):
    """One sync from the ClinicalTrials.gov API. The checkpoint (condition index + page token) is saved
    in the same transaction as each imported page, so a crash resumes exactly where it stopped; the
    watermark (``since``) of the next run is the start date of the last run that succeeded."""

    status = models.CharField(max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    since = models.DateField(null=True, blank=True, help_text="The last successful run's date (for display).")
    # Per condition: ask for studies updated on or after this ISO date; null for a condition no run has
    # completed yet (a community's new condition gets its whole history, not just recent changes).
    condition_since = models.JSONField(default=dict)
    run_date = models.DateField(help_text="Becomes the next watermark when this run succeeds.")
    conditions = models.JSONField(default=list)
    condition_index = models.PositiveIntegerField(default=0)
    page_token = models.CharField(max_length=500, blank=True)
    pages = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"sync {self.pk} {self.status}"


class SavedTrial(models.Model):
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="saves")
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-saved_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["member", "trial"], name="one_save_per_trial")]

    def __str__(self) -> str:
        return f"member {self.member_id} saved {self.trial_id}"


class TrialAlert(models.Model):
    """A member's wish to hear of new recruiting trials for their conditions within a distance of a place."""

    member = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)
    place = models.CharField(max_length=200)
    lat = models.FloatField()
    lon = models.FloatField()
    distance_miles = models.PositiveIntegerField(default=100)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"alert of member {self.member_id} within {self.distance_miles} mi of {self.place}"


class NoticeKind(models.TextChoices):
    STATUS_CHANGED = "status", "A saved trial changed status"
    NEW_TRIAL = "new_trial", "A new recruiting trial near you"


class TrialNotice(models.Model):
    """What a member is told about trials: shown on their trials page on any host, emailed once.

    ``key`` makes delivery idempotent: one notice per member, trial, kind and change."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=NoticeKind.choices)
    key = models.CharField(max_length=120)
    message = models.CharField(max_length=400)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "trial", "kind", "key"], name="one_trial_notice_per_change")
        ]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="trialnotice_inbox"),
            models.Index(fields=["id"], name="trialnotice_unemailed", condition=Q(emailed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for member {self.member_id} on {self.trial_id}"
