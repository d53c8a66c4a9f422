"""The platform's condition taxonomy: shared vocabulary of members, communities and trials."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class Condition(models.Model):
    """One condition, identified by its MeSH descriptor (e.g. D009103 Multiple Sclerosis)."""

    mesh_id = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    category = models.CharField(max_length=120, blank=True)
    category_code = models.CharField(max_length=8, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    tree_numbers = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    synonyms = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    icd10_codes = ArrayField(models.CharField(max_length=16), default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
