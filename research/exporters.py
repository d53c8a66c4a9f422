"""The registry of research exporters: every function that hands member data to research partners.

An exporter is registered here, takes the ``ResearchExport`` to produce (keyword ``export``), and must
reach ``consent.selectors.members_consenting_to`` (directly or through functions of its own module: the
quick pull reaches it through the release machinery); tests/research/test_research_consent_gate.py walks
the code and proves it for each one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import InvalidInput

Exporter = Callable[..., list[dict[str, Any]]]
F = TypeVar("F", bound=Exporter)

_exporters: dict[str, Exporter] = {}


def register_exporter(name: str) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        _exporters[name] = fn
        return fn

    return decorate


def exporters() -> dict[str, Exporter]:
    return dict(_exporters)


def exporter(name: str) -> Exporter:
    if name not in _exporters:
        choices = ", ".join(_exporters)
        raise InvalidInput("Unknown research export.", details={"exporter": [f"Choose one of: {choices}."]})
    return _exporters[name]
