"""Template blocks other apps' pages include: "Trials for you" and a community's recruiting trials.

``{% load trials_tags %}{% trials_for_you %}`` on a member's home; ``{% community_trials community %}`` on a
community page (anything with a ``conditions`` many-to-many to the taxonomy).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import mark_safe

from trials import selectors
from trials.text import registry_markdown as text_render
from trials.text import status_label as text_status_label

register = template.Library()


@register.inclusion_tag("trials/_trials_for_you.html", takes_context=True)
def trials_for_you(context: dict[str, Any], limit: int = 5) -> dict[str, Any]:
    user = context.get("user")
    page = selectors.trials_for_member(member=user, limit=limit) if user is not None else None
    return {"trials_page": page, "user": user}


@register.inclusion_tag("trials/_community_trials.html")
def community_trials(community: Any, limit: int = 5) -> dict[str, Any]:
    condition_ids = list(community.conditions.values_list("pk", flat=True))
    page = selectors.recruiting_trials_for_conditions(condition_ids=condition_ids, limit=limit)
    return {"trials_page": page, "condition_ids": condition_ids}


@register.filter
def registry_markdown(text: str) -> str:
    """``{{ trial.eligibility_criteria|registry_markdown }}``: the registry's Markdown as safe HTML."""
    return mark_safe(text_render(text or ""))  # noqa: S308 (sanitized by nh3 in trials.text)


@register.filter
def status_label(code: str) -> str:
    return text_status_label(code)
