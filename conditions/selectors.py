"""Read-side queries over the condition taxonomy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, IntegerField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from conditions.lay_names import lay_name
from conditions.models import Condition

# Up to this many characters a query is treated as a possible abbreviation: "MS" should find
# Multiple Sclerosis, not every name or synonym that happens to contain "ms" ("systemic", "symptoms").
SHORT_QUERY_MAX = 3

# Folds case, apostrophes and hyphens on the database side exactly as _normalise() does in Python,
# so "crohns", "Crohn's" and "non small cell" all meet their stored spellings.
_NORMALISE_SQL = "translate(lower({}), '-''\u2019', ' ')"


def _normalise(text: str) -> str:
    folded = text.lower().replace("-", " ").replace("'", "").replace("\u2019", "")
    return " ".join(folded.split())


def search_conditions(*, query: str, limit: int = 20) -> list[Condition]:
    """Conditions matching ``query`` by MeSH id, name or synonym, best matches first.

    Ranking: exact id/name, exact synonym or abbreviation, name prefix, synonym prefix, then
    substring of name or synonym. Queries of up to three characters stop after the name prefix.
    """
    needle = _normalise(query)
    if not needle or limit <= 0:
        return []

    table = connection.ops.quote_name(Condition._meta.db_table)
    name = _NORMALISE_SQL.format(f"{table}.name")
    synonym = _NORMALISE_SQL.format("syn")

    def any_synonym(predicate: str) -> str:
        return f"EXISTS (SELECT 1 FROM unnest({table}.synonyms) AS syn WHERE {predicate})"  # noqa: S608

    tiers: list[tuple[str, list[str]]] = [
        (f"lower({table}.mesh_id) = %s OR {name} = %s", [needle, needle]),
        (any_synonym(f"{synonym} = %s"), [needle]),
        (f"starts_with({name}, %s)", [needle]),
    ]
    if len(needle) > SHORT_QUERY_MAX:
        tiers += [
            (any_synonym(f"starts_with({synonym}, %s)"), [needle]),
            (f"strpos({name}, %s) > 0 OR {any_synonym(f'strpos({synonym}, %s) > 0')}", [needle, needle]),
        ]
    # The SQL text is built from constants and the quoted table name only; the query travels as parameters.
    # strpos/starts_with rather than LIKE: the user's text is never a pattern, so no escaping of % and _.
    sql = "CASE " + " ".join(f"WHEN {condition} THEN {rank}" for rank, (condition, _) in enumerate(tiers)) + " END"
    params = [param for _, tier_params in tiers for param in tier_params]

    ranked = (
        Condition.objects.annotate(search_rank=RawSQL(sql, params, output_field=IntegerField()))  # noqa: S611
        .filter(search_rank__isnull=False)
        .order_by("search_rank", Lower("name"), "pk")
    )
    return list(ranked[:limit])


def condition_choices() -> list[tuple[int, str]]:
    """(id, name) pairs ordered by name, for form select widgets."""
    # Case-folded so that "beta-Thalassemia" and "von Willebrand Diseases" sit among the B's and V's
    # rather than after "Z" under the database's C collation.
    return list(Condition.objects.order_by(Lower("name"), "pk").values_list("pk", "name"))


def descendant_ids(*, condition_ids: Iterable[int]) -> set[int]:
    """The given conditions (those that exist) plus every condition below them via parent links."""
    wanted = sorted(set(condition_ids))
    if not wanted:
        return set()
    # One recursive query down the (indexed) parent links: pages that need it on every request
    # (feed, community trials) never load the whole taxonomy.
    table = connection.ops.quote_name(Condition._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE tree(id) AS (SELECT id FROM {table} WHERE id = ANY(%s) "  # noqa: S608 - model's table
            f"UNION SELECT child.id FROM {table} AS child JOIN tree ON child.parent_id = tree.id) SELECT id FROM tree",
            [wanted],
        )
        return {row[0] for row in cursor.fetchall()}


def synonym_groups(*, phrases: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """For each of ``phrases`` that is a condition's name or synonym (case, hyphens and apostrophes
    folded), everything else that condition is called: {"ms": ("Multiple Sclerosis", ...)}.

    Keys are the phrases as given, lower-cased. One query for any number of phrases.
    """
    wanted = {_normalise(phrase): phrase.lower() for phrase in phrases if phrase.strip()}
    if not wanted:
        return {}
    table = connection.ops.quote_name(Condition._meta.db_table)
    name = _NORMALISE_SQL.format(f"{table}.name")
    synonym = _NORMALISE_SQL.format("syn")
    sql = f"({name} = ANY(%s) OR EXISTS (SELECT 1 FROM unnest({table}.synonyms) AS syn WHERE {synonym} = ANY(%s)))"  # noqa: S608
    rows = (
        Condition.objects.alias(hit=RawSQL(sql, [list(wanted), list(wanted)], output_field=BooleanField()))  # noqa: S611
        .filter(hit=True)
        .values_list("name", "synonyms")
    )
    groups: dict[str, tuple[str, ...]] = {}
    for condition_name, synonyms in rows:
        names = (condition_name, *synonyms)
        for spelled in names:
            key = wanted.get(_normalise(spelled))
            if key is not None:
                groups[key] = tuple(dict.fromkeys([*groups.get(key, ()), *names]))
    return groups


@dataclass(frozen=True)
class PickerChoice:
    """One condition as the sign-up and profile pickers offer it: an everyday name first, and every
    word a person might type for it (the MeSH name, the lay name, the taxonomy's synonyms)."""

    pk: int
    label: str
    terms: str


def condition_picker_choices() -> list[PickerChoice]:
    rows = Condition.objects.values_list("pk", "mesh_id", "name", "synonyms")
    choices = []
    for pk, mesh_id, name, synonyms in rows:
        label = lay_name(mesh_id=mesh_id, name=name)
        words = [label, name, *(synonyms or [])]
        choices.append(PickerChoice(pk=pk, label=label, terms=" | ".join(dict.fromkeys(words))))
    return sorted(choices, key=lambda choice: (choice.label.casefold(), choice.pk))
