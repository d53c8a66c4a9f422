"""Parsing one study into a ParsedTrial (or a MalformedRecord naming what is wrong)."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from trials.importer.records import NCT_RE, MalformedRecord, ParsedSite, ParsedTrial

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
