"""Great-circle distances and places: coordinates, city names and postcode prefixes → a point.

``resolve_place`` reads, in order: "lat,lon" coordinates (always work); a US ZIP code (its first three
digits) or a UK postcode (its area letters) from our centroid table ``places.csv``; a city name,
optionally with its region or country ("Leeds", "Boston, MA", "Boston, Massachusetts", "Lyon, France");
and finally the average geo point of trial sites in a city of that name (ClinicalTrials.gov geocodes
every site it can, so any city with a trial site is known).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db.models import Avg, Count

from trials.models import TrialSite

EARTH_RADIUS_MI = 3958.7613
EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = EARTH_RADIUS_KM / EARTH_RADIUS_MI
PLACES_FILE = Path(__file__).with_name("places.csv")

_COORDS_RE = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_US_ZIP_RE = re.compile(r"^\s*(\d{3})\d{2}(?:-\d{4})?\s*$")
_UK_POSTCODE_RE = re.compile(r"^\s*([A-Za-z]{1,2})\d[A-Za-z\d]?(?:\s*\d[A-Za-z]{2})?\s*$")
US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
COUNTRY_NAMES = {
    "US": ("united states", "usa", "us", "america"), "GB": ("united kingdom", "uk", "england", "scotland", "wales"),
    "CA": ("canada",), "FR": ("france",), "DE": ("germany", "deutschland"), "IT": ("italy",), "ES": ("spain",),
    "NL": ("netherlands",), "BE": ("belgium",), "IE": ("ireland",), "IN": ("india",), "AU": ("australia",),
}  # fmt: skip


@dataclass(frozen=True)
class Place:
    label: str
    lat: float
    lon: float


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MI * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, miles: float) -> tuple[float, float, float | None, float | None]:
    """(min lat, max lat, min lon, max lon) containing every point within ``miles``; the longitude
    bounds are None when the box would wrap the antimeridian or reach a pole (no longitude filter)."""
    dlat = math.degrees(miles / EARTH_RADIUS_MI)
    min_lat, max_lat = lat - dlat, lat + dlat
    if max_lat >= 90 or min_lat <= -90:
        return max(min_lat, -90.0), min(max_lat, 90.0), None, None
    # The widest longitude span is at the latitude nearer the pole.
    dlon = math.degrees(math.asin(min(1.0, math.sin(miles / EARTH_RADIUS_MI) / math.cos(math.radians(lat)))))
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180 or max_lon > 180:
        return min_lat, max_lat, None, None
    return min_lat, max_lat, min_lon, max_lon


def _fold(text: str) -> str:
    return " ".join(text.lower().replace(".", "").split())


@cache
def _table() -> tuple[dict[tuple[str, str], Place], dict[str, list[tuple[str, str, Place]]]]:
    by_code: dict[tuple[str, str], Place] = {}
    cities: dict[str, list[tuple[str, str, Place]]] = {}
    with PLACES_FILE.open(encoding="utf-8") as handle:
        rows = csv.reader(line for line in handle if line.strip() and not line.startswith("#"))
        for kind, key, region, country, lat, lon in rows:
            label = ", ".join(part for part in (key, region, country) if part)
            place = Place(label=label, lat=float(lat), lon=float(lon))
            if kind == "city":
                cities.setdefault(_fold(key), []).append((_fold(region), country, place))
            else:
                by_code.setdefault((kind, key.upper()), place)
    return by_code, cities


def _city(name: str, qualifier: str) -> Place | None:
    candidates = _table()[1].get(_fold(name), [])
    if not candidates:
        return None
    if not qualifier:
        return candidates[0][2]
    wanted = _fold(US_STATES.get(qualifier.upper(), qualifier))
    for region, country, place in candidates:
        if wanted in (region, country.lower()) or wanted in COUNTRY_NAMES.get(country, ()):
            return place
    return None


def _from_sites(name: str) -> Place | None:
    row = (
        TrialSite.objects.filter(city__iexact=name.strip(), lat__isnull=False)
        .values("country")
        .annotate(lat=Avg("lat"), lon=Avg("lon"), n=Count("id"))
        .order_by("-n")
        .first()
    )
    if not row:
        return None
    return Place(label=f"{name.strip()}, {row['country']}", lat=row["lat"], lon=row["lon"])


def resolve_place(text: str) -> Place | None:
    text = (text or "").strip()
    if not text:
        return None
    match = _COORDS_RE.match(text)
    if match:
        lat, lon = float(match.group(1)), float(match.group(2))
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return Place(label=f"{lat:.4f}, {lon:.4f}", lat=lat, lon=lon)
        return None
    by_code, _ = _table()
    match = _US_ZIP_RE.match(text)
    if match:
        return by_code.get(("us_zip3", match.group(1)))
    match = _UK_POSTCODE_RE.match(text)
    if match and any(ch.isdigit() for ch in text):
        area = match.group(1).upper()
        return by_code.get(("uk_area", area)) or by_code.get(("uk_area", area[:1]))
    name, _, qualifier = text.partition(",")
    return _city(name, qualifier.strip()) or _city(text, "") or _from_sites(name)
