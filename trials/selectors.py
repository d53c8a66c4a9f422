"""Reads over the trials (public schema): search, distance, eligibility hints, a member's trials.

Search filters: condition (taxonomy ids and their MeSH descendants through the indexed
``TrialCondition`` join table; or free text, which also matches conditions, keywords and MeSH terms),
keyword (titles, summary, conditions, interventions), recruitment status (default: recruiting or not
yet recruiting), phase, study type, and distance from a place: the great-circle (haversine) distance
to the trial's nearest site with a geo point, prefiltered by a bounding box on the indexed lat/lon
columns. Sites without a geo point never count as near. With a place, results are nearest first.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from conditions.models import Condition
from conditions.selectors import descendant_ids, search_conditions
from members.models import Member
from trials.geo import EARTH_RADIUS_MI, KM_PER_MILE, Place, bounding_box, haversine_miles, resolve_place
from trials.models import (
    OPEN_STATUSES,
    PHASE_LABELS,
    STUDY_TYPES,
    OverallStatus,
    SavedTrial,
    Trial,
    TrialAlert,
    TrialCondition,
    TrialNotice,
    TrialSite,
)
from trials.registry import condition_sources

MAX_DISTANCE_MILES = 12_500.0
DEFAULT_PAGE = 20
MAX_PAGE = 100
# Deeper than this, a search is better narrowed than paged through.
MAX_OFFSET = 10_000

# Haversine in SQL over trials_trialsite aliased "s"; parameters: lat, lat, lon.
_HAVERSINE_SQL = (
    f"2 * {EARTH_RADIUS_MI} * asin(least(1.0, sqrt("
    "power(sin(radians(s.lat - %s) / 2), 2) + cos(radians(%s)) * cos(radians(s.lat)) * "
    "power(sin(radians(s.lon - %s) / 2), 2))))"
)


@dataclass(frozen=True)
class TrialQuery:
    condition_ids: tuple[int, ...] = ()
    condition_text: str = ""
    keyword: str = ""
    statuses: tuple[str, ...] = tuple(str(s) for s in OPEN_STATUSES)
    phases: tuple[str, ...] = ()
    study_types: tuple[str, ...] = ()
    place: Place | None = None
    within_miles: float | None = None


@dataclass
class TrialHit:
    trial: Trial
    distance_miles: float | None = None
    hint: str = "unknown"
    hint_reasons: list[str] = field(default_factory=list)

    @property
    def distance_km(self) -> float | None:
        return None if self.distance_miles is None else self.distance_miles * KM_PER_MILE


@dataclass
class TrialPage:
    hits: list[TrialHit]
    has_more: bool
    offset: int
    limit: int


def condition_ids_for_text(text: str, *, limit: int = 5) -> set[int]:
    """Taxonomy conditions named by ``text`` (id, MeSH id, slug, name or synonym) and their descendants."""
    text = text.strip()
    if not text:
        return set()
    exact = Condition.objects.filter(Q(mesh_id__iexact=text) | Q(slug=text))
    if text.isdigit():
        exact = Condition.objects.filter(pk=int(text))
    found = set(exact.values_list("pk", flat=True)) or {c.pk for c in search_conditions(query=text, limit=limit)}
    return descendant_ids(condition_ids=found)


def _distance_sql(place: Place, radius: float) -> tuple[str, list[Any]]:
    min_lat, max_lat, min_lon, max_lon = bounding_box(place.lat, place.lon, radius)
    box = "s.lat BETWEEN %s AND %s"
    params: list[Any] = [min_lat, max_lat]
    if min_lon is not None:
        box += " AND s.lon BETWEEN %s AND %s"
        params += [min_lon, max_lon]
    table = TrialSite._meta.db_table
    sql = (
        f"(SELECT min({_HAVERSINE_SQL}) FROM {table} s "  # noqa: S608 (constants and the table name only)
        f"WHERE s.trial_id = {Trial._meta.db_table}.id AND s.lat IS NOT NULL AND {box})"
    )
    return sql, [place.lat, place.lat, place.lon, *params]


def _sites_in_box(place: Place, radius: float) -> QuerySet[TrialSite, Any]:
    min_lat, max_lat, min_lon, max_lon = bounding_box(place.lat, place.lon, radius)
    sites = TrialSite.objects.filter(lat__gte=min_lat, lat__lte=max_lat)
    if min_lon is not None:
        sites = sites.filter(lon__gte=min_lon, lon__lte=max_lon)
    return sites


def trial_queryset(query: TrialQuery) -> QuerySet[Trial, Any]:
    trials = Trial.objects.all()
    if query.statuses:
        trials = trials.filter(overall_status__in=list(query.statuses))
    if query.phases:
        trials = trials.filter(phases__overlap=list(query.phases))
    if query.study_types:
        trials = trials.filter(study_type__in=list(query.study_types))
    if query.condition_ids or query.condition_text:
        ids = descendant_ids(condition_ids=query.condition_ids) if query.condition_ids else set()
        if query.condition_text:
            ids |= condition_ids_for_text(query.condition_text)
        condition_filter = Q(pk__in=TrialCondition.objects.filter(condition_id__in=ids).values("trial_id"))
        if query.condition_text.strip():
            condition_filter |= Q(condition_text__contains=query.condition_text.strip().lower())
        trials = trials.filter(condition_filter)
    for word in query.keyword.lower().split():
        trials = trials.filter(search_text__contains=word)
    if query.place is not None:
        radius = min(query.within_miles or MAX_DISTANCE_MILES, MAX_DISTANCE_MILES)
        sql, params = _distance_sql(query.place, radius)
        trials = trials.annotate(distance=RawSQL(sql, params, output_field=FloatField()))  # noqa: S611
        if query.within_miles is not None:  # search_trials uses _nearby_page for this (one pass over sites)
            trials = trials.filter(
                pk__in=_sites_in_box(query.place, radius).values("trial_id"), distance__lte=query.within_miles
            )
        trials = trials.order_by(F("distance").asc(nulls_last=True), "nct_id")
    else:
        trials = trials.order_by("-last_update_posted", "nct_id")
    return trials


_LIST_FIELDS = (
    "id", "nct_id", "brief_title", "overall_status", "phases", "study_type", "conditions", "sex",
    "minimum_age_years", "maximum_age_years", "minimum_age_text", "maximum_age_text", "lead_sponsor",
    "site_count", "last_update_posted", "healthy_volunteers",
)  # fmt: skip


def _nearby_page(query: TrialQuery, *, limit: int, offset: int) -> list[tuple[int, float]]:
    """(trial id, miles to its nearest site) within ``query.within_miles``, nearest first.

    One pass over the sites in the bounding box (GiST index on point(lon, lat)), restricted to trials
    passing the other filters, grouped to the minimum exact haversine distance per trial."""
    assert query.place is not None
    assert query.within_miles is not None
    place, radius = query.place, query.within_miles
    filters = trial_queryset(replace(query, place=None, within_miles=None)).order_by().values("id")
    inner_sql, inner_params = filters.query.sql_with_params()
    min_lat, max_lat, min_lon, max_lon = bounding_box(place.lat, place.lon, radius)
    if min_lon is None or max_lon is None:
        min_lon, max_lon = -180.0, 180.0
    site, trial = TrialSite._meta.db_table, Trial._meta.db_table
    # The candidates (other filters) are materialized first: PostgreSQL cannot estimate how many sites a
    # box holds (a fixed guess of 0.1 %), and probing each site's trial one by one cost 40 ms in dense
    # areas; a hash of the candidate ids costs a few.
    sql = (
        f"WITH candidates AS MATERIALIZED ({inner_sql}) "  # noqa: S608 (constants, table names, Django's SQL)
        f"SELECT n.trial_id, n.distance FROM ("
        f"SELECT s.trial_id, min({_HAVERSINE_SQL}) AS distance FROM {site} s "
        # The box twice: as lat/lon ranges for the (trial, lat, lon) index when probing each candidate
        # (a trial with 600 sites reads only those in the band), as a box for the GiST index otherwise.
        "WHERE s.lat BETWEEN %s AND %s AND s.lon BETWEEN %s AND %s "
        "AND point(s.lon, s.lat) <@ box(point(%s, %s), point(%s, %s)) "
        "AND s.trial_id IN (SELECT id FROM candidates) GROUP BY s.trial_id"
        f") n JOIN {trial} t ON t.id = n.trial_id WHERE n.distance <= %s "
        "ORDER BY n.distance, t.nct_id LIMIT %s OFFSET %s"
    )
    box = [min_lat, max_lat, min_lon, max_lon, min_lon, min_lat, max_lon, max_lat]
    params = [*inner_params, place.lat, place.lat, place.lon, *box, radius, limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], row[1]) for row in cursor.fetchall()]


def search_trials(
    *, query: TrialQuery, member: Member | None = None, limit: int = DEFAULT_PAGE, offset: int = 0
) -> TrialPage:
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, min(offset, MAX_OFFSET))
    if query.place is not None and query.within_miles is not None:
        nearby = _nearby_page(query, limit=limit + 1, offset=offset)
        trials = Trial.objects.only(*_LIST_FIELDS).in_bulk([trial_id for trial_id, _ in nearby])
        rows: list[tuple[Trial, float | None]] = [(trials[trial_id], miles) for trial_id, miles in nearby]
    else:
        rows = [
            (trial, getattr(trial, "distance", None))
            for trial in trial_queryset(query).only(*_LIST_FIELDS)[offset : offset + limit + 1]
        ]
    hits = []
    for trial, miles in rows[:limit]:
        hit = TrialHit(trial=trial, distance_miles=miles)
        if member is not None:
            hit.hint, hit.hint_reasons = eligibility_hint(trial=trial, member=member)
        hits.append(hit)
    return TrialPage(hits=hits, has_more=len(rows) > limit, offset=offset, limit=limit)


# ---------------------------------------------------------------------------------------------
# Eligibility hints
# ---------------------------------------------------------------------------------------------

MAY_FIT = "may_fit"
DOES_NOT_FIT = "does_not_fit"
UNKNOWN = "unknown"


def eligibility_hint(*, trial: Trial, member: Any, today: datetime.date | None = None) -> tuple[str, list[str]]:
    """From the member's own birth year and sex: "does_not_fit" when age or sex clearly rule them out,
    "may_fit" when both are known and within the trial's limits, otherwise "unknown". A birth year
    gives an age of (this year - birth year) or one less, so only ages outside the limits for both count."""
    if member is None or not getattr(member, "is_authenticated", False):
        return UNKNOWN, []
    today = today or timezone.localdate()
    reasons: list[str] = []
    fits_known = True
    birth_year = getattr(member, "birth_year", None)
    if birth_year:
        oldest, youngest = today.year - birth_year, today.year - birth_year - 1
        if trial.minimum_age_years is not None and oldest < trial.minimum_age_years:
            reasons.append(f"minimum age {trial.minimum_age_text}")
        elif trial.maximum_age_years is not None and youngest > trial.maximum_age_years:
            reasons.append(f"maximum age {trial.maximum_age_text}")
        elif (trial.minimum_age_years is not None and youngest < trial.minimum_age_years) or (
            trial.maximum_age_years is not None and oldest > trial.maximum_age_years
        ):
            fits_known = False  # on the boundary: depends on the birthday
    else:
        fits_known = fits_known and trial.minimum_age_years is None and trial.maximum_age_years is None
    sex = getattr(member, "sex", "") or ""
    trial_sex = (trial.sex or "ALL").upper()
    if trial_sex in ("FEMALE", "MALE"):
        if not sex:
            fits_known = False
        elif sex.upper() != trial_sex:
            reasons.append(f"{trial_sex.lower()} participants only")
    if reasons:
        return DOES_NOT_FIT, reasons
    return (MAY_FIT if fits_known else UNKNOWN), []


# ---------------------------------------------------------------------------------------------
# One trial
# ---------------------------------------------------------------------------------------------


def get_trial(*, nct_id: str) -> Trial | None:
    return Trial.objects.filter(nct_id=nct_id.strip().upper()).first()


@dataclass
class SiteRow:
    site: TrialSite
    distance_miles: float | None

    @property
    def distance_km(self) -> float | None:
        return None if self.distance_miles is None else self.distance_miles * KM_PER_MILE


def sites_by_distance(*, trial: Trial, place: Place | None) -> list[SiteRow]:
    """Every site of the trial; with a place, nearest first and sites without a geo point last."""
    sites = list(TrialSite.objects.filter(trial=trial).order_by("position"))
    if place is None:
        return [SiteRow(site=site, distance_miles=None) for site in sites]
    rows = [
        SiteRow(
            site=site,
            distance_miles=None
            if site.lat is None or site.lon is None
            else haversine_miles(place.lat, place.lon, site.lat, site.lon),
        )
        for site in sites
    ]
    rows.sort(key=lambda row: (row.distance_miles is None, row.distance_miles or 0.0, row.site.position))
    return rows


def member_place(*, member: Any) -> Place | None:
    """Where a member is, from their profile region (and country), if we can place it."""
    if not getattr(member, "is_authenticated", False) or not member.region:
        return None
    country = str(member.country or "")
    return resolve_place(f"{member.region}, {country}" if country else member.region) or resolve_place(member.region)


def member_condition_ids(*, member: Any) -> set[int]:
    if not getattr(member, "is_authenticated", False):
        return set()
    return descendant_ids(condition_ids=member.conditions.values_list("pk", flat=True))


def trials_for_member(*, member: Any, limit: int = 5, within_miles: float = 100.0) -> TrialPage:
    """'Trials for you': recruiting trials for the member's conditions, near their region when known."""
    ids = member_condition_ids(member=member)
    if not ids:
        return TrialPage(hits=[], has_more=False, offset=0, limit=limit)
    place = member_place(member=member)
    query = TrialQuery(
        condition_ids=tuple(ids),
        statuses=tuple(str(s) for s in OPEN_STATUSES),
        place=place,
        within_miles=within_miles if place else None,
    )
    return search_trials(query=query, member=member, limit=limit)


# A community page shows the same recruiting trials to everyone and trial data changes by import or
# the daily sync, so the block is cached; every import bumps the data version, which is part of the key.
RECRUITING_CACHE_SECONDS = 600
DATA_VERSION_KEY = "trials:data-version"


def trials_data_version() -> int:
    return int(cache.get_or_set(DATA_VERSION_KEY, 1, timeout=None) or 1)


def recruiting_trials_for_conditions(*, condition_ids: Iterable[int], limit: int = 10) -> TrialPage:
    wanted = sorted(set(condition_ids))
    if not wanted:
        return TrialPage(hits=[], has_more=False, offset=0, limit=limit)
    key = f"trials:recruiting:v{trials_data_version()}:{limit}:{','.join(map(str, wanted))}"
    page = cache.get(key)
    if page is None:
        ids = descendant_ids(condition_ids=wanted)
        page = search_trials(query=TrialQuery(condition_ids=tuple(ids)), limit=limit)
        cache.set(key, page, RECRUITING_CACHE_SECONDS)
    return page


# ---------------------------------------------------------------------------------------------
# A member's trials
# ---------------------------------------------------------------------------------------------


def saved_trials(*, member: Member) -> list[SavedTrial]:
    return list(SavedTrial.objects.filter(member=member).select_related("trial").order_by("-saved_at", "-id"))


def saved_nct_ids(*, member: Any, nct_ids: Sequence[str]) -> set[str]:
    if not getattr(member, "is_authenticated", False) or not nct_ids:
        return set()
    return set(
        SavedTrial.objects.filter(member=member, trial__nct_id__in=list(nct_ids)).values_list(
            "trial__nct_id", flat=True
        )
    )


def alert_for(*, member: Member) -> TrialAlert | None:
    return TrialAlert.objects.filter(member=member).first()


def notices_for(*, member: Member, limit: int = 50) -> list[TrialNotice]:
    return list(
        TrialNotice.objects.filter(member=member).select_related("trial").order_by("-created_at", "-id")[:limit]
    )


def unread_notice_count(*, member: Member) -> int:
    return TrialNotice.objects.filter(member=member, read_at__isnull=True).count()


# ---------------------------------------------------------------------------------------------
# Query parameters (web form and API alike)
# ---------------------------------------------------------------------------------------------

ANY_STATUS = "any"


def _split(params: Any, key: str) -> list[str]:
    values = params.getlist(key) if hasattr(params, "getlist") else [params.get(key, "")]
    return [part.strip() for value in values for part in str(value or "").split(",") if part.strip()]


def _is_degrees(value: Any, bound: float) -> bool:
    try:
        number = float(str(value))
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and -bound <= number <= bound


def parse_trial_query(params: Any, *, member: Any = None) -> tuple[TrialQuery, dict[str, list[str]]]:
    """A TrialQuery from request parameters: condition, condition_id, q, status (or "any"), phase,
    study_type, near (a place) or lat+lon, within (a distance), unit (mi or km). Returns the query and
    field errors; with errors the query ignores the offending filter (the caller decides to refuse)."""
    errors: dict[str, list[str]] = {}
    condition_ids: list[int] = []
    for value in _split(params, "condition_id"):
        if value.isdigit():
            condition_ids.append(int(value))
        else:
            errors.setdefault("condition_id", []).append(f"{value!r} is not a condition id.")
    statuses = [s.upper() for s in _split(params, "status")]
    if not statuses:
        status_tuple: tuple[str, ...] = tuple(str(s) for s in OPEN_STATUSES)
    elif ANY_STATUS.upper() in statuses:
        status_tuple = ()
    else:
        unknown = [s for s in statuses if s not in OverallStatus.values]
        if unknown:
            errors["status"] = [f"Unknown status: {', '.join(unknown)}."]
        status_tuple = tuple(s for s in statuses if s in OverallStatus.values)
    phases = [p.upper() for p in _split(params, "phase")]
    if any(p not in PHASE_LABELS for p in phases):
        errors["phase"] = [f"Phases are: {', '.join(PHASE_LABELS)}."]
    study_types = [t.upper() for t in _split(params, "study_type")]
    if any(t not in STUDY_TYPES for t in study_types):
        errors["study_type"] = [f"Study types are: {', '.join(STUDY_TYPES)}."]

    place: Place | None = None
    near = str(params.get("near", "") or "").strip()
    lat, lon = params.get("lat"), params.get("lon")
    if lat not in (None, "") or lon not in (None, ""):
        place = resolve_place(f"{lat},{lon}")
        if place is None:
            # Name the parameter that is wrong (or missing), as the client sent it.
            for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
                if not _is_degrees(value, bound):
                    errors[name] = ["Give lat and lon as decimal degrees."]
            if not errors.keys() & {"lat", "lon"}:
                errors["lat"] = ["Give lat and lon as decimal degrees."]
    elif near:
        place = resolve_place(near)
        if place is None:
            errors["near"] = [f"We could not find {near!r}: try a city, a postcode or 'latitude, longitude'."]
    elif member is not None and str(params.get("near_me", "")) == "1":
        place = member_place(member=member)
    within: float | None = None
    within_text = str(params.get("within", "") or "").strip()
    if within_text:
        try:
            within = float(within_text)
            if not 0 < within <= MAX_DISTANCE_MILES * KM_PER_MILE:
                raise ValueError
        except ValueError:
            errors["within"] = ["A positive distance."]
            within = None
        unit = str(params.get("unit", "mi") or "mi").lower()
        if within is not None and unit == "km":
            within = within / KM_PER_MILE
        elif unit not in ("mi", "km"):
            errors["unit"] = ["mi or km."]
        if place is None and within is not None and not errors.keys() & {"near", "lat", "lon"}:
            errors["within"] = ["Say near where (a place or lat/lon)."]
    query = TrialQuery(
        condition_ids=tuple(condition_ids),
        condition_text=str(params.get("condition", "") or "").strip()[:200],
        keyword=str(params.get("q", "") or "").strip()[:200],
        statuses=status_tuple,
        phases=tuple(p for p in phases if p in PHASE_LABELS),
        study_types=tuple(t for t in study_types if t in STUDY_TYPES),
        place=place,
        within_miles=within if place is not None else None,
    )
    return query, errors


def partner_condition_ids() -> tuple[int, ...]:
    """The conditions the current tenant's communities cover (the registered condition sources run in
    the request's tenant schema): a partner's default trial list."""
    found: set[int] = set()
    for source in condition_sources():
        found |= set(source())
    return tuple(sorted(found))
