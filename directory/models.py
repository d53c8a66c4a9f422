"""The platform-wide directory of partners' communities (public schema).

Each row is a copy of what a partner chose to make public about one of its communities, written by
``directory.services`` when the communities app says a listing changed. The root domain searches these
rows only: a search never opens a tenant schema.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.db import models


class DirectoryVisibility(models.TextChoices):
    # The same values as communities.models.Visibility; repeated here because a public app must not
    # import a tenant app (communities depends on directory, not the reverse).
    OPEN = "open", "Open"
    MEMBERS_ONLY = "members", "Members only"


class DirectoryEntry(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="directory_entries")
    community_slug = models.SlugField(max_length=120)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="Plain text, escaped wherever it is shown.")
    # related_name="+": the taxonomy knows nothing of who uses it (conditions depends on nothing).
    conditions = models.ManyToManyField("conditions.Condition", blank=True, related_name="+")
    visibility = models.CharField(
        max_length=8, choices=DirectoryVisibility.choices, default=DirectoryVisibility.MEMBERS_ONLY
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "directory entries"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "community_slug"], name="one_directory_entry_per_community"),
        ]
        indexes = [
            # directory.selectors matches text with case-insensitive regexes (~*), which trigram indexes serve
            # without a sequential scan as the directory grows.
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="directory_name_trgm"),
            GinIndex(fields=["description"], opclasses=["gin_trgm_ops"], name="directory_description_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.community_slug})"
