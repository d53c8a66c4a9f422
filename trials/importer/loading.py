"""Loading parsed studies: COPY into the trial tables in batches, sites and condition links with them."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from conditions.models import Condition
from trials.importer.parsing import parse_study
from trials.importer.reading import Record
from trials.importer.records import ImportReport, MalformedRecord, ParsedTrial, Rejection
from trials.models import OPEN_STATUSES, Trial, TrialCondition, TrialSite

BATCH_SIZE = 1000
IMPORT_LOCK_KEY = 0x7472_6961  # 'tria'

TRIAL_COLUMNS = [
    "nct_id", "brief_title", "official_title", "brief_summary", "overall_status", "phases", "study_type",
    "conditions", "keywords", "mesh_terms", "mesh_ancestors", "interventions", "eligibility_criteria", "sex",
    "minimum_age_years", "maximum_age_years", "minimum_age_text", "maximum_age_text", "healthy_volunteers",
    "lead_sponsor", "start_date", "completion_date", "first_posted", "last_update_posted", "central_contacts",
    "site_count", "condition_text", "search_text", "raw_json", "source",
]  # fmt: skip
_JSON_COLUMNS = {"mesh_terms", "mesh_ancestors", "interventions", "central_contacts"}
_ARRAY_COLUMNS = {"phases", "conditions", "keywords"}
SITE_COLUMNS = ["trial_id", "position", "facility", "city", "state", "zip", "country", "status", "lat", "lon"]


def condition_ids_by_mesh() -> dict[str, int]:
    return dict(Condition.objects.values_list("mesh_id", "pk"))


def _links(parsed: ParsedTrial, mesh_map: dict[str, int]) -> list[tuple[int, bool]]:
    links: dict[int, bool] = {}
    for mesh_id in parsed.mesh_ids:
        if mesh_id in mesh_map:
            links[mesh_map[mesh_id]] = True
    for mesh_id in parsed.ancestor_mesh_ids:
        if mesh_id in mesh_map:
            links.setdefault(mesh_map[mesh_id], False)
    return list(links.items())


_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]").search


def _esc(value: str) -> str:
    """A string in COPY's text format (backslash, tab, newline and carriage return escaped)."""
    if _NEEDS_ESCAPE(value) is None:
        return value
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _num(value: float | None) -> str:
    return "\\N" if value is None else repr(value)


def _copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if isinstance(value, str):
        return _esc(value)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"cannot COPY {type(value).__name__}")


def _array_literal(values: list[str]) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _copy_value(column: str, value: Any) -> str:
    if column in _JSON_COLUMNS:
        return _copy_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    if column in _ARRAY_COLUMNS:
        return _copy_text(_array_literal(value))
    return _copy_text(value)


def _copy_rows(table: str, columns: list[str], lines: Iterable[str], *, chunk: int = 500) -> None:
    """Stream tab-separated COPY lines (already escaped) to ``table``."""
    with connection.cursor() as cursor:
        raw_cursor = cursor.cursor
        with raw_cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            buffer: list[str] = []
            for line in lines:
                buffer.append(line)
                if len(buffer) >= chunk:
                    copy.write("".join(buffer))
                    buffer = []
            if buffer:
                copy.write("".join(buffer))


def _next_ids(table: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
        return [row[0] for row in cursor.fetchall()]


def prepare_copy(parsed: ParsedTrial, mesh_map: dict[str, int]) -> ParsedTrial:
    """Build the trial's COPY lines (minus its id) where the study is parsed: with a writer thread,
    this Python work then overlaps the server's work on the previous batch."""
    esc = _esc
    parsed.copy_row = "\t".join(_copy_value(c, parsed.fields[c]) for c in TRIAL_COLUMNS)
    parsed.copy_sites = [
        f"{position}\t{esc(s.facility)}\t{esc(s.city)}\t{esc(s.state)}\t{esc(s.zip)}\t"
        f"{esc(s.country)}\t{esc(s.status)}\t{_num(s.lat)}\t{_num(s.lon)}\n"
        for position, s in enumerate(parsed.sites)
    ]
    parsed.copy_links = [
        f"{condition_id}\t{'t' if direct else 'f'}\n" for condition_id, direct in _links(parsed, mesh_map)
    ]
    return parsed


def _write_sites_and_links(items: list[tuple[int, ParsedTrial]]) -> None:
    site_lines = (f"{trial_id}\t{line}" for trial_id, parsed in items for line in parsed.copy_sites)
    _copy_rows(TrialSite._meta.db_table, SITE_COLUMNS, site_lines, chunk=2000)
    link_lines = (f"{trial_id}\t{line}" for trial_id, parsed in items for line in parsed.copy_links)
    _copy_rows(TrialCondition._meta.db_table, ["trial_id", "condition_id", "direct"], link_lines, chunk=2000)


def load_batch(parsed_batch: list[ParsedTrial], *, mesh_map: dict[str, int]) -> ImportReport:
    """Write one batch in one transaction. Within a batch the newest version of a study wins."""
    report = ImportReport()
    for parsed in parsed_batch:
        if not parsed.copy_row:
            prepare_copy(parsed, mesh_map)
    newest: dict[str, ParsedTrial] = {}
    for parsed in parsed_batch:
        current = newest.get(parsed.nct_id)
        if current is None or parsed.last_update > current.last_update:
            if current is not None:
                report.unchanged += 1
            newest[parsed.nct_id] = parsed
        else:
            report.unchanged += 1
    with transaction.atomic():
        # One importer at a time (command, sync, demo): two of them inserting the same new study
        # would otherwise collide on the unique NCT id.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])
        existing = {
            nct: (pk, last_update, status)
            for nct, pk, last_update, status in Trial.objects.select_for_update()
            .filter(nct_id__in=list(newest))
            .values_list("nct_id", "pk", "last_update_posted", "overall_status")
        }
        new_items = [p for nct, p in newest.items() if nct not in existing]
        updates = [p for nct, p in newest.items() if nct in existing and p.last_update > existing[nct][1]]
        report.unchanged += len(newest) - len(new_items) - len(updates)

        if new_items:
            ids = _next_ids(Trial._meta.db_table, len(new_items))
            now = timezone.now().isoformat()
            lines = (f"{trial_id}\t{p.copy_row}\t{now}\t{now}\n" for trial_id, p in zip(ids, new_items, strict=True))
            _copy_rows(Trial._meta.db_table, ["id", *TRIAL_COLUMNS, "imported_at", "updated_at"], lines, chunk=50)
            _write_sites_and_links(list(zip(ids, new_items, strict=True)))
            report.created += len(new_items)
            report.newly_open += [
                trial_id
                for trial_id, p in zip(ids, new_items, strict=True)
                if p.fields["overall_status"] in OPEN_STATUSES
            ]

        if updates:
            update_ids = [existing[p.nct_id][0] for p in updates]
            TrialSite.objects.filter(trial_id__in=update_ids).delete()
            TrialCondition.objects.filter(trial_id__in=update_ids).delete()
            for trial_id, parsed in zip(update_ids, updates, strict=True):
                Trial.objects.filter(pk=trial_id).update(**parsed.fields)
                old_status = existing[parsed.nct_id][2]
                new_status = parsed.fields["overall_status"]
                if old_status != new_status:
                    report.status_changes.append((trial_id, old_status, new_status))
                    if new_status in OPEN_STATUSES and old_status not in OPEN_STATUSES:
                        report.newly_open.append(trial_id)
            _write_sites_and_links(list(zip(update_ids, updates, strict=True)))
            report.updated += len(updates)
    return report


def _parsed_batches(
    records: Iterable[Record], *, batch_size: int, report: ImportReport, mesh_map: dict[str, int]
) -> Iterator[list[ParsedTrial]]:
    batch: list[ParsedTrial] = []
    for source, raw, text in records:
        try:
            batch.append(prepare_copy(parse_study(raw, source=source, text=text), mesh_map))
        except MalformedRecord as exc:
            report.reject(Rejection(source=source, nct_id=exc.nct_id, reason=exc.message))
            continue
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _load_batch_on_own_connection(batch: list[ParsedTrial], mesh_map: dict[str, int]) -> ImportReport:
    try:
        with connection.cursor() as cursor:
            # A bulk import need not wait for each batch's WAL flush: a crash loses at most the last
            # batches, which a re-run (idempotent) writes again; never a torn batch.
            cursor.execute("SET synchronous_commit TO OFF")
        return load_batch(batch, mesh_map=mesh_map)
    finally:
        # The writer thread's connection is its own; closing it each batch keeps no idle server
        # connection behind once the import ends (opening one costs far less than a batch).
        connection.close()


def load_studies(
    records: Iterable[Record], *, batch_size: int = BATCH_SIZE, mesh_map: dict[str, int] | None = None
) -> ImportReport:
    """Parse and load (source, study) pairs; malformed ones are reported and skipped.

    Outside a transaction (the command, the demo, a bench) parsing and writing overlap: one writer
    thread writes batch N, each in its own transaction on its own connection, while this thread parses
    batch N + 1 (the JSON decoding is Python's work, the COPY and index upkeep the server's, so two
    cores both work). Inside a transaction (the sync's checkpointed page, tests) batches are written
    on the caller's connection, in the caller's transaction.
    """
    mesh_map = condition_ids_by_mesh() if mesh_map is None else mesh_map
    report = ImportReport()
    batches = _parsed_batches(records, batch_size=batch_size, report=report, mesh_map=mesh_map)
    if connection.in_atomic_block:
        for batch in batches:
            report.merge(load_batch(batch, mesh_map=mesh_map))
        return report
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trial-import") as writer:
        in_flight: Future[ImportReport] | None = None
        for batch in batches:
            if in_flight is not None:
                report.merge(in_flight.result())
            in_flight = writer.submit(_load_batch_on_own_connection, batch, mesh_map)
        if in_flight is not None:
            report.merge(in_flight.result())
    return report
