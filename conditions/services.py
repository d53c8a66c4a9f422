"""Loading the platform's condition taxonomy (``conditions/taxonomy.json``) into the public schema.

The upsert takes the model class as an argument so that data migration 0002 can run the very same
code against its historical model; the management command and tests use the live model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.utils.text import slugify

from conditions.models import Condition

TAXONOMY_PATH = Path(__file__).resolve().parent / "taxonomy.json"

MESH_ID_RE = re.compile(r"^D\d{6,9}$")
CATEGORY_CODE_RE = re.compile(r"^[A-Z]\d{2}$")
TREE_NUMBER_RE = re.compile(r"^[A-Z]\d{2}(\.\d{3})*$")
# ICD-10-CM codes only: ranges such as "C50-C50" in the source mapping are not codes.
ICD10_RE = re.compile(r"^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$")

# Mirrors the column sizes in conditions.models.Condition, so bad data fails here with the entry
# named rather than later as an anonymous DataError from PostgreSQL.
NAME_MAX = 200
CATEGORY_MAX = 120
SYNONYM_MAX = 200

REQUIRED_KEYS = frozenset({"mesh_id", "name"})
OPTIONAL_KEYS = frozenset(
    # parent_name is informational: the broader MeSH term when that term is not in our taxonomy.
    {"category", "category_code", "parent_mesh_id", "parent_name", "tree_numbers", "icd10", "synonyms"}
)

# Fields the file owns; the slug is deliberately not among them (see upsert_taxonomy).
SYNCED_FIELDS = ("name", "category", "category_code", "tree_numbers", "synonyms", "icd10_codes")


@dataclass(frozen=True)
class TaxonomyEntry:
    mesh_id: str
    name: str
    category: str = ""
    category_code: str = ""
    parent_mesh_id: str | None = None
    tree_numbers: tuple[str, ...] = ()
    icd10_codes: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        return slugify(self.name)

    def field_values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "category_code": self.category_code,
            "tree_numbers": list(self.tree_numbers),
            "synonyms": list(self.synonyms),
            "icd10_codes": list(self.icd10_codes),
        }


@dataclass(frozen=True)
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def read_taxonomy(*, path: Path | None = None) -> list[TaxonomyEntry]:
    """Read and validate the taxonomy file (the bundled one by default)."""
    path = path or TAXONOMY_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    return parse_taxonomy(data=data, source=str(path))


def parse_taxonomy(*, data: Any, source: str = "taxonomy") -> list[TaxonomyEntry]:
    """Validate decoded taxonomy data; every problem is reported as a ValueError naming the entry."""
    if not isinstance(data, list):
        raise ValueError(f"{source}: expected a JSON list of condition objects, got {type(data).__name__}")
    entries = [_parse_entry(raw, where=f"{source} entry {index}") for index, raw in enumerate(data)]

    by_mesh_id: dict[str, TaxonomyEntry] = {}
    by_slug: dict[str, TaxonomyEntry] = {}
    for index, entry in enumerate(entries):
        where = f"{source} entry {index} ({entry.mesh_id})"
        if entry.mesh_id in by_mesh_id:
            raise ValueError(f"{where}: duplicate mesh_id")
        # Two names that slugify alike would otherwise get arbitrary, order-dependent slugs.
        if entry.slug in by_slug:
            raise ValueError(f"{where}: slug {entry.slug!r} clashes with {by_slug[entry.slug].mesh_id}")
        by_mesh_id[entry.mesh_id] = entry
        by_slug[entry.slug] = entry

    for index, entry in enumerate(entries):
        where = f"{source} entry {index} ({entry.mesh_id})"
        if entry.parent_mesh_id is None:
            continue
        if entry.parent_mesh_id not in by_mesh_id:
            raise ValueError(f"{where}: parent_mesh_id {entry.parent_mesh_id} is not in the taxonomy")
        seen = {entry.mesh_id}
        ancestor: str | None = entry.parent_mesh_id
        while ancestor is not None:
            if ancestor in seen:
                raise ValueError(f"{where}: parent chain loops back to {ancestor}")
            seen.add(ancestor)
            ancestor = by_mesh_id[ancestor].parent_mesh_id
    return entries


def upsert_taxonomy(
    *, model: type[models.Model], entries: Sequence[TaxonomyEntry], using: str = DEFAULT_DB_ALIAS
) -> LoadResult:
    """Create or update one row per entry, keyed by mesh_id, then link parents.

    Rows that are not in the file are left alone: members, communities and trials may point at them.
    """
    # Any: the migration passes a historical model, whose fields the type checker cannot see.
    manager: Any = model._default_manager.db_manager(using)
    with transaction.atomic(using=using):
        existing: dict[str, Any] = {
            row.mesh_id: row for row in manager.filter(mesh_id__in=[e.mesh_id for e in entries])
        }
        taken_slugs = set(manager.values_list("slug", flat=True))

        rows: dict[str, Any] = {}
        to_create: list[Any] = []
        changed: set[str] = set()
        for entry in entries:
            values = entry.field_values()
            row: Any = existing.get(entry.mesh_id)
            if row is None:
                row = model(mesh_id=entry.mesh_id, slug=_free_slug(entry, taken_slugs), **values)
                taken_slugs.add(row.slug)
                to_create.append(row)
            else:
                # The slug is kept when MeSH renames a descriptor, so published URLs keep working.
                for field, value in values.items():
                    if getattr(row, field) != value:
                        setattr(row, field, value)
                        changed.add(entry.mesh_id)
            rows[entry.mesh_id] = row

        manager.bulk_create(to_create)
        if changed:
            manager.bulk_update([rows[mesh_id] for mesh_id in changed], SYNCED_FIELDS)

        # Parents need every row's primary key, so they are linked once all rows exist.
        reparented = []
        for entry in entries:
            row = rows[entry.mesh_id]
            parent_id = rows[entry.parent_mesh_id].pk if entry.parent_mesh_id else None
            if row.parent_id != parent_id:
                row.parent_id = parent_id
                reparented.append(row)
                if entry.mesh_id in existing:
                    changed.add(entry.mesh_id)
        if reparented:
            manager.bulk_update(reparented, ["parent"])

    created = len(to_create)
    return LoadResult(created=created, updated=len(changed), unchanged=len(entries) - created - len(changed))


def load_condition_taxonomy(*, path: Path | None = None) -> LoadResult:
    """Idempotently load the taxonomy file into the Condition table."""
    return upsert_taxonomy(model=Condition, entries=read_taxonomy(path=path))


def _free_slug(entry: TaxonomyEntry, taken: set[str]) -> str:
    # A clash can only come from a row outside the file (parse_taxonomy rejects clashes within it);
    # the MeSH id makes the fallback unique and stable across reloads.
    if entry.slug not in taken:
        return entry.slug
    suffix = f"-{entry.mesh_id.lower()}"
    return entry.slug[: NAME_MAX - len(suffix)] + suffix


def _parse_entry(raw: Any, *, where: str) -> TaxonomyEntry:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object, got {type(raw).__name__}")
    mesh_id = raw.get("mesh_id")
    if isinstance(mesh_id, str):
        where = f"{where} ({mesh_id})"
    missing = REQUIRED_KEYS - raw.keys()
    if missing:
        raise ValueError(f"{where}: missing {', '.join(sorted(missing))}")
    unknown = raw.keys() - REQUIRED_KEYS - OPTIONAL_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")

    if not isinstance(mesh_id, str) or not MESH_ID_RE.match(mesh_id):
        raise ValueError(f"{where}: mesh_id must look like D009103, got {mesh_id!r}")
    name = _text(raw["name"], key="name", where=where, max_length=NAME_MAX)
    if not name:
        raise ValueError(f"{where}: name is empty")
    if not slugify(name):
        raise ValueError(f"{where}: name {name!r} gives an empty slug")
    category = _text(raw.get("category", ""), key="category", where=where, max_length=CATEGORY_MAX)
    category_code = _text(raw.get("category_code", ""), key="category_code", where=where, max_length=8)
    if category_code and not CATEGORY_CODE_RE.match(category_code):
        raise ValueError(f"{where}: category_code must look like C10, got {category_code!r}")
    if raw.get("parent_name") is not None:
        _text(raw["parent_name"], key="parent_name", where=where, max_length=NAME_MAX)

    parent = raw.get("parent_mesh_id")
    if parent is not None and (not isinstance(parent, str) or not MESH_ID_RE.match(parent)):
        raise ValueError(f"{where}: parent_mesh_id must be null or look like D009103, got {parent!r}")
    if parent == mesh_id:
        raise ValueError(f"{where}: is its own parent")

    return TaxonomyEntry(
        mesh_id=mesh_id,
        name=name,
        category=category,
        category_code=category_code,
        parent_mesh_id=parent,
        tree_numbers=_codes(raw.get("tree_numbers", []), key="tree_numbers", where=where, pattern=TREE_NUMBER_RE),
        icd10_codes=_codes(raw.get("icd10", []), key="icd10", where=where, pattern=ICD10_RE),
        synonyms=_synonyms(raw.get("synonyms", []), name=name, where=where),
    )


def _text(value: Any, *, key: str, where: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key} must be a string, got {type(value).__name__}")
    value = value.strip()
    if len(value) > max_length:
        raise ValueError(f"{where}: {key} is longer than {max_length} characters")
    return value


def _string_list(value: Any, *, key: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}: {key} must be a list of strings")
    return [item.strip() for item in value]


def _codes(value: Any, *, key: str, where: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    codes = _string_list(value, key=key, where=where)
    for code in codes:
        if not pattern.match(code):
            raise ValueError(f"{where}: {key} has an invalid code {code!r}")
    if len(set(codes)) != len(codes):
        raise ValueError(f"{where}: {key} has duplicates")
    return tuple(codes)


def _synonyms(value: Any, *, name: str, where: str) -> tuple[str, ...]:
    synonyms = _string_list(value, key="synonyms", where=where)
    seen = {name.casefold()}
    for synonym in synonyms:
        if not synonym:
            raise ValueError(f"{where}: synonyms contains an empty string")
        if len(synonym) > SYNONYM_MAX:
            raise ValueError(f"{where}: synonym {synonym[:40]!r}... is longer than {SYNONYM_MAX} characters")
        # Search is case-insensitive, so a case variant (of the name or another synonym) adds nothing.
        if synonym.casefold() in seen:
            raise ValueError(f"{where}: synonym {synonym!r} repeats the name or another synonym")
        seen.add(synonym.casefold())
    return tuple(synonyms)
