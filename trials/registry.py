"""Hooks through which higher apps extend trials without trials importing them (DESIGN.md: the lower
app defines a small registry, the higher app registers itself in its ``AppConfig.ready()``).

- condition sources: callables run inside each tenant's schema (via ``tenants.services.for_each_tenant``)
  that return the taxonomy condition ids that tenant's communities cover; the sync asks the API for
  trials of these conditions. ``communities`` registers one.
- trial page panels: callables ``(request, trial) -> str`` (HTML) added to the trial page, e.g. the
  tenant's discussions of the trial; they return "" where they have nothing to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ConditionSource = Callable[[], set[int]]
TrialPanel = Callable[[Any, Any], str]

_condition_sources: list[ConditionSource] = []
_trial_panels: list[TrialPanel] = []


def register_condition_source(source: ConditionSource) -> None:
    if source not in _condition_sources:
        _condition_sources.append(source)


def condition_sources() -> list[ConditionSource]:
    return list(_condition_sources)


def register_trial_panel(panel: TrialPanel) -> None:
    if panel not in _trial_panels:
        _trial_panels.append(panel)


def trial_panels() -> list[TrialPanel]:
    return list(_trial_panels)
