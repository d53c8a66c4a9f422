"""No interface edits or deletes a ledger row: every URL on both hosts, the admin, and the code."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver

from consent.models import ConsentRecord, ConsentSubject
from tests.conftest import ROOT
from tests.factories import MemberFactory

WRITE_METHODS = {"put", "patch", "delete"}
SKIP_DIRS = {".venv", "tests", "bench", ".kindred", "__pycache__", ".git"}
LEDGER_SQL = re.compile(r"\b(UPDATE|DELETE\s+FROM|TRUNCATE)\b[^;]*consent_consent(record|subject)", re.IGNORECASE)


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


@pytest.mark.parametrize("urlconf", ["config.urls_public", "config.urls_tenant"])
def test_no_consent_or_research_endpoint_accepts_put_patch_or_delete(urlconf):
    seen = []
    for route, callback in walk(import_module(urlconf).urlpatterns):
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        module = getattr(view_class or callback, "__module__", "")
        if not module.startswith(("consent.", "research.")):
            continue
        seen.append(route)
        if view_class is not None:
            handlers = {m for m in WRITE_METHODS if hasattr(view_class, m)}
            assert handlers == set(), f"{route} ({view_class.__name__}) handles {handlers}"
    assert "api/v1/consent/decisions/" in seen
    assert "accounts/consent/decide/" in seen


@pytest.mark.django_db
def test_the_admin_cannot_change_or_delete_ledger_rows_even_for_superusers():
    request = RequestFactory().get("/admin/")
    request.user = MemberFactory(is_staff=True, is_superuser=True)
    for model in (ConsentRecord, ConsentSubject):
        model_admin = admin.site._registry[model]
        assert model_admin.has_change_permission(request) is False
        assert model_admin.has_delete_permission(request) is False
        assert model_admin.has_add_permission(request) is False
        assert model_admin.get_actions(request) == {}


def test_no_code_writes_update_or_delete_sql_against_the_ledger():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if SKIP_DIRS.intersection(parts[:-1]) or parts[:2] == ("consent", "migrations"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and LEDGER_SQL.search(node.value):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_code_calls_update_or_delete_on_consent_records():
    """The ORM guard raises anyway; this keeps anyone from writing such a call in the first place."""
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if SKIP_DIRS.intersection(parts[:-1]) or "migrations" in parts:
            continue
        source = path.read_text()
        if "ConsentRecord" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"update", "delete", "bulk_update", "update_or_create", "raw"}
                and "ConsentRecord" in ast.unparse(node.func.value)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert offenders == []
