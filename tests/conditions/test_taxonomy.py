from __future__ import annotations

import csv
import importlib
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils.text import slugify

from conditions.models import Condition
from conditions.selectors import condition_choices, descendant_ids, search_conditions
from conditions.services import TAXONOMY_PATH, load_condition_taxonomy, parse_taxonomy, read_taxonomy

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_CSV = REPO_ROOT.parent / "shared" / "data" / "conditions" / "conditions_mesh.csv"

MULTIPLE_SCLEROSIS = "D009103"
RELAPSING_REMITTING_MS = "D020529"
PROGRESSIVE_MS = "D020528"
SYSTEMIC_LUPUS = "D008180"
BREAST_NEOPLASMS = "D001943"
LYMPHOMA = "D008223"
FOLLICULAR_LYMPHOMA = "D008224"
PLANTAR_FASCIITIS = "D036981"  # a leaf nothing in the seeded tenants points at


def _raw_entries() -> list[dict]:
    return json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))


def _by_mesh(mesh_id: str) -> Condition:
    return Condition.objects.get(mesh_id=mesh_id)


def _delete_row(mesh_id: str) -> None:
    # Raw SQL: an ORM delete would also visit the communities' M2M table, which exists only in tenant schemas.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM conditions_condition WHERE mesh_id = %s", [mesh_id])


@pytest.fixture
def taxonomy(db):
    # The session's test database is reused while migrations are unchanged, so bring it up to the
    # current file; this is also a no-op check that 0002 already loaded it.
    assert Condition.objects.count() >= 300, "taxonomy missing: was conditions 0002_load_taxonomy applied?"
    return load_condition_taxonomy()


# --- the data file -------------------------------------------------------------------------


def test_taxonomy_file_is_valid():
    entries = _raw_entries()
    assert len(entries) >= 300

    mesh_ids = [entry["mesh_id"] for entry in entries]
    assert len(set(mesh_ids)) == len(mesh_ids)
    assert all(re.fullmatch(r"D\d{6,9}", mesh_id) for mesh_id in mesh_ids)

    slugs = [slugify(entry["name"]) for entry in entries]
    assert all(slugs)
    assert len(set(slugs)) == len(slugs)

    parents = {entry["parent_mesh_id"] for entry in entries} - {None}
    assert parents <= set(mesh_ids)

    assert len(read_taxonomy()) == len(entries)  # the loader's own validation accepts it too


def test_taxonomy_matches_the_source_mesh_list():
    if not SOURCE_CSV.exists():
        pytest.skip(f"source list not available at {SOURCE_CSV}")
    with SOURCE_CSV.open(encoding="utf-8", newline="") as handle:
        source = {row["code"]: row["name"] for row in csv.DictReader(handle)}
    for entry in _raw_entries():
        assert entry["mesh_id"] in source, f"{entry['mesh_id']} is not in {SOURCE_CSV.name}"
        assert entry["name"] == source[entry["mesh_id"]], entry["mesh_id"]


def test_common_conditions_carry_lay_names_and_abbreviations():
    synonyms = {entry["mesh_id"]: set(entry["synonyms"]) for entry in _raw_entries()}
    assert {"MS"} <= synonyms[MULTIPLE_SCLEROSIS]
    assert {"SLE", "lupus"} <= synonyms[SYSTEMIC_LUPUS]
    assert {"breast cancer"} <= synonyms[BREAST_NEOPLASMS]
    assert {"non-small-cell lung carcinoma", "NSCLC"} <= synonyms["D002289"]
    assert sum(1 for found in synonyms.values() if found) >= 250


def test_icd10_codes_are_codes_not_ranges():
    for entry in _raw_entries():
        for code in entry["icd10"]:
            assert re.fullmatch(r"[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?", code), (entry["mesh_id"], code)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mesh_id": "D009103"}, r"entry 0 \(D009103\): missing name"),
        ({"mesh_id": "9103", "name": "X"}, r"entry 0 \(9103\): mesh_id must look like"),
        ({"mesh_id": "D009103", "name": "MS", "synonym": []}, r"unknown keys synonym"),
        ({"mesh_id": "D009103", "name": "MS", "icd10": ["G35-G37"]}, r"invalid code 'G35-G37'"),
        ({"mesh_id": "D009103", "name": "MS", "synonyms": ["ms"]}, r"repeats the name"),
        ({"mesh_id": "D009103", "name": "MS", "parent_mesh_id": "D020278"}, r"D020278 is not in the taxonomy"),
    ],
)
def test_bad_entries_are_rejected_with_the_entry_named(data, message):
    with pytest.raises(ValueError, match=message):
        parse_taxonomy(data=[data])


def test_duplicate_ids_slug_clashes_and_parent_loops_are_rejected():
    with pytest.raises(ValueError, match=r"entry 1 \(D000001\): duplicate mesh_id"):
        parse_taxonomy(data=[{"mesh_id": "D000001", "name": "A"}, {"mesh_id": "D000001", "name": "B"}])
    with pytest.raises(ValueError, match=r"slug 'a-b' clashes with D000001"):
        parse_taxonomy(data=[{"mesh_id": "D000001", "name": "A B"}, {"mesh_id": "D000002", "name": "A, B"}])
    with pytest.raises(ValueError, match=r"loops back"):
        parse_taxonomy(
            data=[
                {"mesh_id": "D000001", "name": "A", "parent_mesh_id": "D000002"},
                {"mesh_id": "D000002", "name": "B", "parent_mesh_id": "D000001"},
            ]
        )


# --- loading -------------------------------------------------------------------------------


def test_loading_twice_changes_nothing(taxonomy):
    again = load_condition_taxonomy()
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == len(_raw_entries())
    assert _by_mesh(RELAPSING_REMITTING_MS).parent == _by_mesh(MULTIPLE_SCLEROSIS)


def test_loading_repairs_drift_and_counts_it(taxonomy):
    Condition.objects.filter(mesh_id=SYSTEMIC_LUPUS).update(synonyms=["edited by hand"])
    Condition.objects.filter(mesh_id=RELAPSING_REMITTING_MS).update(parent=None)
    _delete_row(PLANTAR_FASCIITIS)

    result = load_condition_taxonomy()

    assert (result.created, result.updated) == (1, 2)
    assert result.unchanged == len(_raw_entries()) - 3
    assert "lupus" in _by_mesh(SYSTEMIC_LUPUS).synonyms
    assert _by_mesh(RELAPSING_REMITTING_MS).parent == _by_mesh(MULTIPLE_SCLEROSIS)
    assert _by_mesh(PLANTAR_FASCIITIS).slug == "fasciitis-plantar"


def test_data_migration_loads_with_the_historical_model(taxonomy):
    _delete_row(PLANTAR_FASCIITIS)
    migration = importlib.import_module("conditions.migrations.0002_load_taxonomy")
    apps = MigrationLoader(connection).project_state(("conditions", "0002_load_taxonomy")).apps

    migration.load_taxonomy(apps, SimpleNamespace(connection=connection))

    assert _by_mesh(PLANTAR_FASCIITIS).name == "Fasciitis, Plantar"


# --- search --------------------------------------------------------------------------------


def _mesh_ids(query: str, **kwargs) -> list[str]:
    return [condition.mesh_id for condition in search_conditions(query=query, **kwargs)]


def test_abbreviation_finds_its_condition_first(taxonomy):
    assert _mesh_ids("MS")[0] == MULTIPLE_SCLEROSIS


def test_short_query_matches_only_exact_synonyms_ids_or_name_prefixes(taxonomy):
    results = search_conditions(query="ms")
    assert results
    assert results[0].mesh_id == MULTIPLE_SCLEROSIS
    for condition in results:
        assert "ms" in {s.casefold() for s in condition.synonyms} or condition.name.casefold().startswith("ms")
    merely_containing = {
        condition.mesh_id
        for condition in Condition.objects.all()
        if "ms" in condition.name.casefold() or any("ms" in s.casefold() for s in condition.synonyms)
    } - {MULTIPLE_SCLEROSIS}
    assert merely_containing  # e.g. RRMS, PPMS: present in the data, so the check below means something
    assert not merely_containing & {condition.mesh_id for condition in results}


def test_lay_name_finds_the_systemic_disease_first(taxonomy):
    assert _mesh_ids("lupus")[0] == SYSTEMIC_LUPUS


def test_mesh_id_finds_its_condition(taxonomy):
    assert _mesh_ids("D009103") == [MULTIPLE_SCLEROSIS]
    assert _mesh_ids("d009103") == [MULTIPLE_SCLEROSIS]


def test_cancer_synonym_finds_the_neoplasm(taxonomy):
    assert _mesh_ids("breast cancer")[0] == BREAST_NEOPLASMS
    assert _mesh_ids("Breast Cancer")[0] == BREAST_NEOPLASMS


def test_apostrophes_and_hyphens_do_not_matter(taxonomy):
    assert _mesh_ids("crohns")[0] == "D003424"
    assert _mesh_ids("non small cell lung")[0] == "D002289"


def test_exact_matches_rank_before_prefix_before_substring(taxonomy):
    ranked = _mesh_ids("lung cancer")
    assert ranked[0] == "D008175"  # Lung Neoplasms: exact synonym
    assert "D002289" in ranked[1:]  # "non-small cell lung cancer": substring


def test_empty_query_limit_and_pattern_characters(taxonomy):
    assert search_conditions(query="   ") == []
    assert len(search_conditions(query="cancer", limit=3)) == 3
    assert search_conditions(query="%") == []
    assert search_conditions(query="_") == []


# --- choices and hierarchy -----------------------------------------------------------------


def test_condition_choices_are_ordered_by_name(taxonomy):
    choices = condition_choices()
    names = [name for _, name in choices]
    assert len(choices) == Condition.objects.count()
    assert names[:3] == ["Achondroplasia", "Acne Vulgaris", "Acquired Immunodeficiency Syndrome"]
    # Case-insensitive: lower-case MeSH names do not sink below "Z".
    assert names.index("beta-Thalassemia") < names.index("Bipolar Disorder")
    ms = _by_mesh(MULTIPLE_SCLEROSIS)
    assert (ms.pk, ms.name) in choices


def test_descendant_ids_include_children_and_grandchildren(taxonomy):
    ms = _by_mesh(MULTIPLE_SCLEROSIS)
    assert descendant_ids(condition_ids=[ms.pk]) == {
        ms.pk,
        _by_mesh(RELAPSING_REMITTING_MS).pk,
        _by_mesh(PROGRESSIVE_MS).pk,
    }
    lymphoma_tree = descendant_ids(condition_ids=[_by_mesh(LYMPHOMA).pk])
    assert _by_mesh(FOLLICULAR_LYMPHOMA).pk in lymphoma_tree
    assert ms.pk not in lymphoma_tree


def test_descendant_ids_of_a_leaf_nothing_or_unknown_ids(taxonomy):
    leaf = _by_mesh(PLANTAR_FASCIITIS)
    assert descendant_ids(condition_ids=[leaf.pk]) == {leaf.pk}
    assert descendant_ids(condition_ids=[]) == set()
    assert descendant_ids(condition_ids=[-1]) == set()
