"""The readable page of a data export: any JSON value as escaped HTML (tables, lists, definitions)."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _label(key: str) -> str:
    return escape(key.replace("_", " ").capitalize())


def _html(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return '<p class="muted">Nothing.</p>'
        items = "".join(f"<dt>{_label(str(k))}</dt><dd>{_html(v)}</dd>" for k, v in value.items())
        return f"<dl>{items}</dl>"
    if isinstance(value, list):
        if not value:
            return '<p class="muted">Nothing.</p>'
        if all(isinstance(item, dict) for item in value):
            columns: list[str] = []
            for item in value:
                columns.extend(key for key in item if key not in columns)
            head = "".join(f"<th>{_label(c)}</th>" for c in columns)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_html(item.get(c, ''))}</td>" for c in columns) + "</tr>" for item in value
            )
            return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        return "<ul>" + "".join(f"<li>{_html(item)}</li>" for item in value) + "</ul>"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return escape(str(value))


def render_data(value: Any) -> SafeString:
    """Every string is escaped: a post body like ``<script>`` shows as text, never runs."""
    return mark_safe(_html(value))  # noqa: S308 - built only from escaped parts above
