"""The "Resources" tab of the community search page: this partner's published resource pages."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q
from django.utils.html import strip_tags

from cms.models import ResourcePage
from communities.search import SourceHit


def search_resources(*, words: Sequence[str], limit: int = 20) -> list[SourceHit]:
    """Live, public resource pages containing every word (title, summary or body); the library is a
    few hundred pages at most, so a scan is fine."""
    words = [word for word in words if word.strip()][:8]
    if not words:
        return []
    pages = ResourcePage.objects.live().public()
    for word in words:
        # The body is a StreamField (JSON): its text is matched as the stored JSON's text.
        pages = pages.filter(Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word))
    return [
        SourceHit(title=page.title, url=page.url or "", summary=page.summary or strip_tags(str(page.body))[:200])
        for page in pages.order_by("title")[:limit]
    ]
