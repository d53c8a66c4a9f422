"""Partner-curated content pages (tenant schema, Wagtail)."""

from __future__ import annotations

from typing import Any

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class ResourcePage(Page):
    """A curated resource: an explainer, a guide, a collection of links."""

    summary: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    body = RichTextField(blank=True)

    content_panels: list[Any] = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]
