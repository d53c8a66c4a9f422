"""Reading files: ClinicalTrials.gov pages and study files, record by record."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from trials.importer.records import MalformedRecord

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
