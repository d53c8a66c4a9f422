"""ClinicalTrials.gov API v2 JSON → Trial rows: parse, validate, and load in batches.

``parse_study`` turns one API v2 study object into a ``ParsedTrial`` or raises ``MalformedRecord``
(with the NCT id when there is one). ``load_studies`` writes parsed studies in batches: one query
finds what exists; new trials, their sites and condition links are streamed with COPY (ids taken
from the sequence first); a newer version replaces the old one in place (sites and links rewritten,
saves and notices kept); a version whose last-update date is not newer is left alone.

The whole original record is stored in ``Trial.raw_json``, as the exact text it came in when the
file's layout allows (a study file, or a page file whose first key is ``studies``), else re-serialised.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from conditions.models import Condition
from trials.models import OPEN_STATUSES, Trial, TrialCondition, TrialSite

NCT_RE = re.compile(r"^NCT\d{8}$")
_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$")
_AGE_UNITS = {
    "year": 1.0,
    "years": 1.0,
    "month": 1 / 12,
    "months": 1 / 12,
    "week": 7 / 365.25,
    "weeks": 7 / 365.25,
    "day": 1 / 365.25,
    "days": 1 / 365.25,
    "hour": 1 / (365.25 * 24),
    "hours": 1 / (365.25 * 24),
    "minute": 1 / (365.25 * 24 * 60),
    "minutes": 1 / (365.25 * 24 * 60),
}
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


class MalformedRecord(Exception):
    def __init__(self, message: str, *, nct_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.nct_id = nct_id


class ParsedSite(NamedTuple):
    facility: str
    city: str
    state: str
    zip: str
    country: str
    status: str
    lat: float | None
    lon: float | None


@dataclass
class ParsedTrial:
    fields: dict[str, Any]
    sites: list[ParsedSite]
    mesh_ids: list[str]
    ancestor_mesh_ids: list[str]
    # COPY text without the trial's id, which the writer prefixes (see prepare_copy).
    copy_row: str = ""
    copy_sites: list[str] = field(default_factory=list)
    copy_links: list[str] = field(default_factory=list)

    @property
    def nct_id(self) -> str:
        return str(self.fields["nct_id"])

    @property
    def last_update(self) -> datetime.date:
        return self.fields["last_update_posted"]


@dataclass
class Rejection:
    source: str
    nct_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.nct_id or '(no NCT id)'}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    # (trial id, old status, new status) for trials whose overall status changed in an update.
    status_changes: list[tuple[int, str, str]] = field(default_factory=list)
    # Trials that are new and open, or became recruiting: candidates for members' alerts.
    newly_open: list[int] = field(default_factory=list)

    def reject(self, rejection: Rejection) -> None:
        self.rejected += 1
        self.rejections.append(rejection)

    def merge(self, other: ImportReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.rejections += other.rejections
        self.status_changes += other.status_changes
        self.newly_open += other.newly_open

    def summary(self) -> str:
        return f"new: {self.created}, updated: {self.updated}, unchanged: {self.unchanged}, rejected: {self.rejected}"

    def as_dict(self) -> dict[str, int]:
        return {"new": self.created, "updated": self.updated, "unchanged": self.unchanged, "rejected": self.rejected}


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


_DECODER = json.JSONDecoder()
_PAGE_START = re.compile(r'\s*\{\s*"studies"\s*:\s*\[')
_WS = re.compile(r"[ \t\n\r]*")

Record = tuple[str, Any, str | None]  # (source label, study object or MalformedRecord, original text)


def iter_path_records(path: Path) -> Iterator[Record]:
    """(source label, study object, original text) for each study in a study file, a page file or a
    JSON array. Page files are read study by study, so a truncated page keeps the studies before the
    break; an unreadable file or the broken rest of a page yields ``(source, MalformedRecord, None)``."""
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield source, MalformedRecord(f"cannot read the file ({exc})"), None
        return
    match = _PAGE_START.match(text)
    if match:
        yield from _iter_page_text(text, match.end(), source=source)
        return
    try:
        payload = json.loads(text)
    except ValueError as exc:
        yield source, MalformedRecord(f"not valid JSON ({exc})"), None
        return
    if isinstance(payload, dict) and "protocolSection" in payload:
        yield source, payload, text.strip()
        return
    yield from iter_payload_records(payload, source=source)


def _iter_page_text(text: str, pos: int, *, source: str) -> Iterator[Record]:
    index = 0
    try:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text[pos] != "]":
            while True:
                study, end = _DECODER.raw_decode(text, pos)
                yield f"{source}[{index}]", study, text[pos:end]
                index += 1
                pos = _WS.match(text, end).end()  # type: ignore[union-attr]
                if text[pos] == ",":
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                elif text[pos] == "]":
                    break
                else:
                    raise ValueError(f"expected ',' or ']' at character {pos}")
        json.loads('{"studies":[]' + text[pos + 1 :])  # the rest of the page (nextPageToken...) must parse too
    except (ValueError, IndexError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "unexpected end of file"
        yield f"{source}[{index}]", MalformedRecord(f"not valid JSON ({reason})"), None


def iter_payload_records(payload: Any, *, source: str) -> Iterator[Record]:
    if isinstance(payload, dict) and "studies" in payload:
        studies = payload["studies"]
        if not isinstance(studies, list):
            yield source, MalformedRecord("'studies' is not a list"), None
            return
        for index, study in enumerate(studies):
            yield f"{source}[{index}]", study, None
    elif isinstance(payload, list):
        for index, study in enumerate(payload):
            yield f"{source}[{index}]", study, None
    else:
        yield source, payload, None


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the ``*.json`` files of directories (sorted, not recursive)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file())
        else:
            found.append(path)
    return found


# ---------------------------------------------------------------------------------------------
# Parsing one study
# ---------------------------------------------------------------------------------------------


def _obj(value: Any, where: str, nct_id: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedRecord(f"{where} is {type(value).__name__}, expected an object", nct_id=nct_id)
    return value


def _list(value: Any, where: str, nct_id: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedRecord(f"{where} is {type(value).__name__}, expected a list", nct_id=nct_id)
    return value


def _str(value: Any, where: str, nct_id: str, *, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedRecord(f"{where} is {type(value).__name__}, expected a string", nct_id=nct_id)
    value = value.replace("\x00", "")
    return value[:max_length] if max_length else value


def _strings(value: Any, where: str, nct_id: str, *, max_length: int = 300) -> list[str]:
    return [
        _str(item, f"{where}[{i}]", nct_id, max_length=max_length) for i, item in enumerate(_list(value, where, nct_id))
    ]


def parse_partial_date(value: Any, where: str, nct_id: str) -> datetime.date | None:
    """API v2 dates are 'YYYY-MM-DD' or 'YYYY-MM' (the first of the month) or 'YYYY'."""
    text = _str(value, where, nct_id)
    if not text:
        return None
    parts = text.split("-")
    try:
        numbers = [int(part) for part in parts]
        if len(numbers) == 1:
            return datetime.date(numbers[0], 1, 1)
        if len(numbers) == 2:
            return datetime.date(numbers[0], numbers[1], 1)
        if len(numbers) == 3:
            return datetime.date(numbers[0], numbers[1], numbers[2])
    except ValueError:
        pass
    raise MalformedRecord(f"{where} is not a date: {text!r}", nct_id=nct_id)


def parse_age_years(text: str) -> float | None:
    """'18 Years' → 18.0, '6 Months' → 0.5; 'N/A' or anything unreadable → None (no limit)."""
    match = _AGE_RE.match(text or "")
    if not match:
        return None
    unit = _AGE_UNITS.get(match.group(2).lower())
    if unit is None:
        return None
    return round(float(match.group(1)) * unit, 4)


def normalise_mesh_id(value: str) -> str:
    """'D000003920' and 'D003920' are the same descriptor: the taxonomy uses the 7-character form."""
    value = value.strip().upper()
    if len(value) > 1 and value[0] == "D" and value[1:].isdigit():
        return "D" + value[1:].lstrip("0").zfill(6)
    return value


def _float(value: Any, where: str, nct_id: str) -> float | None:
    if value is None:
        return None
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    if kind is bool or not isinstance(value, (int, float)):
        raise MalformedRecord(f"{where} is {type(value).__name__}, expected a number", nct_id=nct_id)
    return float(value)


_SITE_LIMITS = (500, 200, 200, 40, 100, 40)


def _fast_site(item: Any) -> ParsedSite | None:
    """The common case (an object of plain strings, a numeric geo point or none) without per-field
    calls; anything else returns None and goes through ``_site``, which names what is wrong."""
    if type(item) is not dict:
        return None
    get = item.get
    texts = (
        get("facility", ""),
        get("city", ""),
        get("state", ""),
        get("zip", ""),
        get("country", ""),
        get("status", ""),
    )
    for text, limit in zip(texts, _SITE_LIMITS, strict=True):
        if type(text) is not str or len(text) > limit or "\x00" in text:
            return None
    geo = get("geoPoint")
    lat: float | None = None
    lon: float | None = None
    if geo is not None:
        if type(geo) is not dict:
            return None
        raw_lat: Any = geo.get("lat")
        raw_lon: Any = geo.get("lon")
        if type(raw_lat) not in (float, int) or type(raw_lon) not in (float, int):
            return None
        if -90 <= raw_lat <= 90 and -180 <= raw_lon <= 180:
            lat, lon = float(raw_lat), float(raw_lon)
    return ParsedSite(*texts, lat, lon)


def _site(item: Any, i: int, nct_id: str) -> ParsedSite:
    item = _obj(item, f"locations[{i}]", nct_id)
    geo = _obj(item.get("geoPoint"), f"locations[{i}].geoPoint", nct_id)
    lat = _float(geo.get("lat"), f"locations[{i}].geoPoint.lat", nct_id)
    lon = _float(geo.get("lon"), f"locations[{i}].geoPoint.lon", nct_id)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    return ParsedSite(
        facility=_str(item.get("facility"), f"locations[{i}].facility", nct_id, max_length=500),
        city=_str(item.get("city"), f"locations[{i}].city", nct_id, max_length=200),
        state=_str(item.get("state"), f"locations[{i}].state", nct_id, max_length=200),
        zip=_str(item.get("zip"), f"locations[{i}].zip", nct_id, max_length=40),
        country=_str(item.get("country"), f"locations[{i}].country", nct_id, max_length=100),
        status=_str(item.get("status"), f"locations[{i}].status", nct_id, max_length=40),
        lat=lat,
        lon=lon,
    )


def parse_study(raw: Any, *, source: str = "", text: str | None = None) -> ParsedTrial:
    if isinstance(raw, MalformedRecord):
        raise raw
    if not isinstance(raw, dict):
        raise MalformedRecord(f"a study is an object, not {type(raw).__name__}")
    protocol = raw.get("protocolSection")
    if not isinstance(protocol, dict):
        raise MalformedRecord("no protocolSection object")
    ident = protocol.get("identificationModule")
    if not isinstance(ident, dict):
        raise MalformedRecord("no identificationModule object")
    nct_value = ident.get("nctId")
    if nct_value is None:
        raise MalformedRecord("missing nctId")
    if not isinstance(nct_value, str):
        raise MalformedRecord(f"nctId is {type(nct_value).__name__}, expected a string")
    nct_id = nct_value.strip().upper()
    if not NCT_RE.match(nct_id):
        raise MalformedRecord(f"nctId {nct_value!r} is not NCT followed by 8 digits", nct_id=nct_value[:20])

    status = _obj(protocol.get("statusModule"), "statusModule", nct_id)
    last_update = parse_partial_date(
        _obj(status.get("lastUpdatePostDateStruct"), "lastUpdatePostDateStruct", nct_id).get("date"),
        "lastUpdatePostDateStruct.date",
        nct_id,
    )
    if last_update is None:
        raise MalformedRecord("missing lastUpdatePostDateStruct.date", nct_id=nct_id)
    brief_title = _str(ident.get("briefTitle"), "briefTitle", nct_id, max_length=500)
    official_title = _str(ident.get("officialTitle"), "officialTitle", nct_id)
    if not brief_title and not official_title:
        raise MalformedRecord("no briefTitle or officialTitle", nct_id=nct_id)

    description = _obj(protocol.get("descriptionModule"), "descriptionModule", nct_id)
    conditions_module = _obj(protocol.get("conditionsModule"), "conditionsModule", nct_id)
    design = _obj(protocol.get("designModule"), "designModule", nct_id)
    arms = _obj(protocol.get("armsInterventionsModule"), "armsInterventionsModule", nct_id)
    eligibility = _obj(protocol.get("eligibilityModule"), "eligibilityModule", nct_id)
    sponsors = _obj(protocol.get("sponsorCollaboratorsModule"), "sponsorCollaboratorsModule", nct_id)
    contacts = _obj(protocol.get("contactsLocationsModule"), "contactsLocationsModule", nct_id)
    derived = _obj(raw.get("derivedSection"), "derivedSection", nct_id)
    browse = _obj(derived.get("conditionBrowseModule"), "conditionBrowseModule", nct_id)

    def mesh_list(key: str) -> list[dict[str, str]]:
        terms = []
        for i, item in enumerate(_list(browse.get(key), key, nct_id)):
            item = _obj(item, f"{key}[{i}]", nct_id)
            mesh_id = _str(item.get("id"), f"{key}[{i}].id", nct_id, max_length=16)
            if mesh_id:
                terms.append(
                    {"id": normalise_mesh_id(mesh_id), "term": _str(item.get("term"), f"{key}[{i}].term", nct_id)}
                )
        return terms

    meshes = mesh_list("meshes")
    ancestors = mesh_list("ancestors")

    interventions = []
    for i, item in enumerate(_list(arms.get("interventions"), "interventions", nct_id)):
        item = _obj(item, f"interventions[{i}]", nct_id)
        interventions.append(
            {
                "type": _str(item.get("type"), f"interventions[{i}].type", nct_id),
                "name": _str(item.get("name"), f"interventions[{i}].name", nct_id),
                "description": _str(item.get("description"), f"interventions[{i}].description", nct_id),
            }
        )

    central_contacts = []
    for i, item in enumerate(_list(contacts.get("centralContacts"), "centralContacts", nct_id)):
        item = _obj(item, f"centralContacts[{i}]", nct_id)
        central_contacts.append(
            {
                key: _str(item.get(key), f"centralContacts[{i}].{key}", nct_id)
                for key in ("name", "role", "phone", "phoneExt", "email")
            }
        )

    sites = [
        _fast_site(item) or _site(item, i, nct_id)
        for i, item in enumerate(_list(contacts.get("locations"), "locations", nct_id))
    ]

    healthy = eligibility.get("healthyVolunteers")
    if healthy is not None and not isinstance(healthy, bool):
        raise MalformedRecord(f"healthyVolunteers is {type(healthy).__name__}, expected true/false", nct_id=nct_id)
    min_age = _str(eligibility.get("minimumAge"), "minimumAge", nct_id, max_length=40)
    max_age = _str(eligibility.get("maximumAge"), "maximumAge", nct_id, max_length=40)
    conditions = _strings(conditions_module.get("conditions"), "conditions", nct_id)
    keywords = _strings(conditions_module.get("keywords"), "keywords", nct_id)
    brief_summary = _str(description.get("briefSummary"), "briefSummary", nct_id)
    lead = _obj(sponsors.get("leadSponsor"), "leadSponsor", nct_id)
    mesh_words = [term["term"] for term in meshes]
    condition_text = "\n".join([*conditions, *keywords, *mesh_words]).lower()
    search_text = "\n".join(
        [brief_title, official_title, condition_text, brief_summary, *(i["name"] for i in interventions)]
    ).lower()

    fields: dict[str, Any] = {
        "nct_id": nct_id,
        "brief_title": brief_title or official_title[:500],
        "official_title": official_title,
        "brief_summary": brief_summary,
        "overall_status": _str(status.get("overallStatus"), "overallStatus", nct_id, max_length=32) or "UNKNOWN",
        "phases": _strings(design.get("phases"), "phases", nct_id, max_length=16),
        "study_type": _str(design.get("studyType"), "studyType", nct_id, max_length=32),
        "conditions": conditions,
        "keywords": keywords,
        "mesh_terms": meshes,
        "mesh_ancestors": ancestors,
        "interventions": interventions,
        "eligibility_criteria": _str(eligibility.get("eligibilityCriteria"), "eligibilityCriteria", nct_id),
        "sex": _str(eligibility.get("sex"), "sex", nct_id, max_length=8),
        "minimum_age_years": parse_age_years(min_age),
        "maximum_age_years": parse_age_years(max_age),
        "minimum_age_text": min_age,
        "maximum_age_text": max_age,
        "healthy_volunteers": healthy,
        "lead_sponsor": _str(lead.get("name"), "leadSponsor.name", nct_id, max_length=300),
        "start_date": parse_partial_date(
            _obj(status.get("startDateStruct"), "startDateStruct", nct_id).get("date"), "startDateStruct.date", nct_id
        ),
        "completion_date": parse_partial_date(
            _obj(status.get("completionDateStruct"), "completionDateStruct", nct_id).get("date"),
            "completionDateStruct.date",
            nct_id,
        ),
        "first_posted": parse_partial_date(
            _obj(status.get("studyFirstPostDateStruct"), "studyFirstPostDateStruct", nct_id).get("date"),
            "studyFirstPostDateStruct.date",
            nct_id,
        ),
        "last_update_posted": last_update,
        "central_contacts": central_contacts,
        "site_count": len(sites),
        "condition_text": condition_text,
        "search_text": search_text,
        "raw_json": text if text is not None else json.dumps(raw, ensure_ascii=False, separators=(",", ":")),
        "source": source[-300:],
    }
    return ParsedTrial(
        fields=fields,
        sites=sites,
        mesh_ids=[term["id"] for term in meshes],
        ancestor_mesh_ids=[term["id"] for term in ancestors],
    )


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


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
