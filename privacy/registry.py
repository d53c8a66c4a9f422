"""The personal-data registry: every app holding member data says how to export and erase it.

``privacy`` depends on ``members`` and ``tenants`` only; higher apps register themselves in their
``AppConfig.ready()``::

    register_personal_data(
        name="consent",
        models=[ConsentRecord],
        export=lambda member: consent_history_for(member=member),
        erase=lambda member, keep_posts: detach_member(member=member),
        schema="public",
    )

``export`` returns JSON-ready data (dicts, lists, scalars; model instances and querysets are turned into
dicts by the ZIP builder). ``erase`` removes or anonymizes the member's rows and must leave nothing
that names the member. Tenant providers run once per tenant schema, inside that tenant's context
and its own transaction, with a Member re-fetched there. Public providers run after every tenant
schema is done, in ``order``; the Member row itself is deleted last, by the erasure service.
A test walks Django's model registry: a model that references Member and is not listed in some
provider's ``models`` fails it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.apps import apps
from django.conf import settings
from django.db import models

from members.models import Member

Schema = Literal["public", "tenant"]
ExportFn = Callable[[Member], Any]
EraseFn = Callable[[Member, bool], None]


@dataclass(frozen=True)
class PersonalDataProvider:
    name: str
    models: tuple[type[models.Model], ...]
    export: ExportFn
    erase: EraseFn
    schema: Schema
    order: int = 100


_providers: dict[tuple[str, str], PersonalDataProvider] = {}


def register_personal_data(
    *,
    name: str,
    models: Iterable[type[models.Model]],
    export: ExportFn,
    erase: EraseFn,
    schema: Schema,
    order: int = 100,
) -> PersonalDataProvider:
    """Register (or replace, so a reloaded app does not register twice) one provider."""
    if schema not in ("public", "tenant"):
        raise ValueError(f"schema must be 'public' or 'tenant', not {schema!r}")
    if not name or "/" in name:
        raise ValueError("A provider needs a short name without '/'.")
    provider = PersonalDataProvider(
        name=name, models=tuple(models), export=export, erase=erase, schema=schema, order=order
    )
    _providers[(schema, name)] = provider
    return provider


def providers(*, schema: Schema | None = None) -> list[PersonalDataProvider]:
    found = [p for p in _providers.values() if schema is None or p.schema == schema]
    return sorted(found, key=lambda p: (p.order, p.name))


def covered_models() -> set[type[models.Model]]:
    return {model for provider in _providers.values() for model in provider.models}


def _is_member(target: Any) -> bool:
    # A lazy reference ("members.Member") stays a string until its app registry resolves it.
    return target is Member or (isinstance(target, str) and target.lower() == Member._meta.label_lower)


def member_referencing_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """FK / one-to-one / many-to-many fields declared on ``model`` itself that point at Member."""
    fields: list[models.Field[Any, Any]] = []
    for field in model._meta.get_fields(include_hidden=True):
        if not (field.is_relation and field.concrete and _is_member(field.related_model)):
            continue
        if field.model is not model:  # inherited from a concrete parent: the parent is checked itself
            continue
        fields.append(field)  # type: ignore[arg-type]
    return fields


def member_reference_columns(*, schema: Schema) -> list[tuple[str, str]]:
    """Every (table, column) in a ``schema`` kind of schema that holds a Member id, from model meta:
    each concrete foreign key or one-to-one to Member on a model of an app in that schema's app list
    (SHARED_APPS for public, TENANT_APPS for every tenant schema; third-party apps such as Wagtail's
    included, many-to-many tables too). Tenant tables keep no database constraint to public (cms
    migration 0004), so this list, not pg_constraint, is what says where a member can be referenced."""
    entries = set(settings.SHARED_APPS if schema == "public" else settings.TENANT_APPS)
    columns: set[tuple[str, str]] = set()
    for model in apps.get_models(include_auto_created=True):
        app_config = model._meta.app_config
        if model is Member or model._meta.proxy or not model._meta.managed:
            continue
        if app_config is None or app_config.name not in entries:
            continue
        for field in model._meta.local_concrete_fields:
            if field.is_relation and (field.many_to_one or field.one_to_one) and _is_member(field.related_model):
                columns.add((model._meta.db_table, field.column))
    return sorted(columns)


def uncovered_models(*, candidates: Iterable[type[models.Model]] | None = None) -> list[str]:
    """Labels of installed models (or of ``candidates``) that reference Member and that no provider covers."""
    covered = covered_models()
    missing = []
    for model in apps.get_models() if candidates is None else candidates:
        if model._meta.proxy or model in covered:
            continue
        if model is Member or member_referencing_fields(model):
            missing.append(model._meta.label)
    return sorted(missing)


def unregister_personal_data(*, name: str, schema: Schema) -> None:
    _providers.pop((schema, name), None)


# --- disclosures: what other apps tell a member on their privacy page ---------------------------


@dataclass(frozen=True)
class Disclosure:
    """A list a higher app shows on the member's privacy page (web and API), e.g. research releases."""

    name: str
    heading: str
    description: str
    rows: Callable[..., list[dict[str, Any]]]
    empty: str


_disclosures: dict[str, Disclosure] = {}


def register_disclosure(
    *, name: str, heading: str, description: str, rows: Callable[..., list[dict[str, Any]]], empty: str
) -> Disclosure:
    """``rows(member=...)`` returns JSON-ready dicts; registering a name again replaces it."""
    disclosure = Disclosure(name=name, heading=heading, description=description, rows=rows, empty=empty)
    _disclosures[name] = disclosure
    return disclosure


def disclosures() -> list[Disclosure]:
    return [_disclosures[name] for name in sorted(_disclosures)]
