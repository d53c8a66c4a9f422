"""A partner's condition-specific forums (tenant schema)."""

from __future__ import annotations

from django.db import models


class Visibility(models.TextChoices):
    OPEN = "open", "Open: readable by anyone"
    MEMBERS_ONLY = "members", "Members only"


class Community(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    conditions = models.ManyToManyField("conditions.Condition", blank=True, related_name="+")
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.MEMBERS_ONLY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "communities"
        permissions = [("moderate_community", "Can moderate communities")]

    def __str__(self) -> str:
        return self.name
