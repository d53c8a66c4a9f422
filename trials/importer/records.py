"""What an import produces: parsed studies, their sites, rejections and the report."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

NCT_RE = re.compile(r"^NCT\d{8}$")


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
