"""ClinicalTrials.gov API v2 JSON → Trial rows: parse, validate, and load in batches.

``parse_study`` turns one API v2 study object into a ``ParsedTrial`` or raises ``MalformedRecord``
(with the NCT id when there is one). ``load_studies`` writes parsed studies in batches: one query
finds what exists; new trials, their sites and condition links are streamed with COPY (ids taken
from the sequence first); a newer version replaces the old one in place (sites and links rewritten,
saves and notices kept); a version whose last-update date is not newer is left alone.

The whole original record is stored in ``Trial.raw_json``, as the exact text it came in when the
file's layout allows (a study file, or a page file whose first key is ``studies``), else re-serialised.
"""

from trials.importer.loading import (
    BATCH_SIZE,
    IMPORT_LOCK_KEY,
    SITE_COLUMNS,
    TRIAL_COLUMNS,
    condition_ids_by_mesh,
    load_batch,
    load_studies,
    prepare_copy,
)
from trials.importer.parsing import normalise_mesh_id, parse_age_years, parse_partial_date, parse_study
from trials.importer.reading import Record, expand_paths, iter_path_records, iter_payload_records
from trials.importer.records import NCT_RE, ImportReport, MalformedRecord, ParsedSite, ParsedTrial, Rejection

__all__ = [
    "BATCH_SIZE",
    "IMPORT_LOCK_KEY",
    "NCT_RE",
    "SITE_COLUMNS",
    "TRIAL_COLUMNS",
    "ImportReport",
    "MalformedRecord",
    "ParsedSite",
    "ParsedTrial",
    "Record",
    "Rejection",
    "condition_ids_by_mesh",
    "expand_paths",
    "iter_path_records",
    "iter_payload_records",
    "load_batch",
    "load_studies",
    "normalise_mesh_id",
    "parse_age_years",
    "parse_partial_date",
    "parse_study",
    "prepare_copy",
]
