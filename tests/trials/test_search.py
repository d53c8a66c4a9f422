"""Trial search: conditions with MeSH descendants, text, status, phase, type, and great-circle distance."""

from __future__ import annotations

import copy
import datetime
import json
import math
from types import SimpleNamespace

import pytest

from conditions.models import Condition
from tests.trials.conftest import OWN_FIXTURES
from trials.geo import bounding_box, haversine_miles, resolve_place
from trials.models import Trial
from trials.selectors import (
    DOES_NOT_FIT,
    MAY_FIT,
    UNKNOWN,
    TrialQuery,
    eligibility_hint,
    search_trials,
    sites_by_distance,
)
from trials.services import import_paths, import_payload

pytestmark = pytest.mark.django_db

NYC = resolve_place("40.7128, -74.0060")
R = 3958.7613


def law_of_cosines(lat1, lon1, lat2, lon2):
    """An independent formula for the hand check (exact on a sphere, like haversine)."""
    a, b, c, d = map(math.radians, (lat1, lon1, lat2, lon2))
    return R * math.acos(min(1.0, math.sin(a) * math.sin(c) + math.cos(a) * math.cos(c) * math.cos(d - b)))


def ids(page):
    return [hit.trial.nct_id for hit in page.hits]


@pytest.fixture
def own():
    import_paths(paths=[OWN_FIXTURES])


def template(nct_id, *, locations, status="RECRUITING", mesh=("D009103", "Multiple Sclerosis")):
    record = json.loads((OWN_FIXTURES / "own-ms-recruiting.json").read_text())
    record["protocolSection"]["identificationModule"]["nctId"] = nct_id
    record["protocolSection"]["statusModule"]["overallStatus"] = status
    record["protocolSection"]["contactsLocationsModule"]["locations"] = locations
    record["derivedSection"]["conditionBrowseModule"]["meshes"] = [{"id": mesh[0], "term": mesh[1]}]
    return record


def test_distance_matches_hand_computed_values_nearest_first(own):
    page = search_trials(query=TrialQuery(place=NYC, within_miles=200))
    assert ids(page) == ["NCT90000005", "NCT90000001"]
    hss, mgh = page.hits
    # New York City centre to Hospital for Special Surgery / Massachusetts General Hospital, by hand:
    assert hss.distance_miles == pytest.approx(4.5077, abs=0.001)
    assert mgh.distance_miles == pytest.approx(189.8697, abs=0.001)
    assert mgh.distance_km == pytest.approx(305.565, abs=0.01)
    assert hss.distance_miles == pytest.approx(law_of_cosines(40.7128, -74.0060, 40.7648, -73.9540), abs=1e-6)
    assert ids(search_trials(query=TrialQuery(place=NYC, within_miles=100))) == ["NCT90000005"]
    assert ids(search_trials(query=TrialQuery(place=NYC, within_miles=4))) == []


def test_sites_without_a_geo_point_are_never_near():
    import_payload(
        payload=template(
            "NCT91000001",
            locations=[
                {"facility": "No geo in Manhattan", "city": "New York", "state": "New York", "country": "United States"}
            ],
        ),
        source="test",
    )
    for miles in (1, 100, 12000):
        assert ids(search_trials(query=TrialQuery(place=NYC, within_miles=miles))) == []
    # Without a distance limit it is listed, after every trial with a distance, and has none.
    page = search_trials(query=TrialQuery(place=NYC))
    assert [(h.trial.nct_id, h.distance_miles) for h in page.hits] == [("NCT91000001", None)]


def test_trials_with_hundreds_of_sites():
    # 400 sites marching north from the equator along 20°E, one trial; 300 far-away sites and a
    # single near one in another; the nearest site decides, whatever its position in the list.
    many = [
        {"facility": f"Site {i}", "city": f"Town {i}", "country": "Nowhere", "geoPoint": {"lat": i * 0.2, "lon": 20.0}}
        for i in range(400)
    ]
    import_payload(payload=template("NCT91000002", locations=many), source="test")
    far = [
        {
            "facility": f"Far {i}",
            "city": "Far",
            "country": "Nowhere",
            "geoPoint": {"lat": -60.0, "lon": -100.0 + i * 0.1},
        }
        for i in range(300)
    ]
    far.insert(
        250, {"facility": "Near one", "city": "Near", "country": "Nowhere", "geoPoint": {"lat": 40.0, "lon": 21.0}}
    )
    import_payload(payload=template("NCT91000003", locations=far), source="test")
    assert Trial.objects.get(nct_id="NCT91000002").sites.count() == 400

    here = resolve_place("40.3, 20.5")
    page = search_trials(query=TrialQuery(place=here, within_miles=50))
    expected_near = law_of_cosines(40.3, 20.5, 40.0, 21.0)  # the "Near one" site, 250th of 301
    expected_many = min(law_of_cosines(40.3, 20.5, i * 0.2, 20.0) for i in range(400))
    assert [(h.trial.nct_id, round(h.distance_miles, 6)) for h in page.hits] == sorted(
        [("NCT91000003", round(expected_near, 6)), ("NCT91000002", round(expected_many, 6))], key=lambda x: x[1]
    )
    assert expected_many == pytest.approx(law_of_cosines(40.3, 20.5, 40.4, 20.0))
    assert ids(search_trials(query=TrialQuery(place=here, within_miles=30))) == ["NCT91000002"]

    rows = sites_by_distance(trial=Trial.objects.get(nct_id="NCT91000002"), place=here)
    assert len(rows) == 400
    assert [r.site.facility for r in rows[:3]] == ["Site 202", "Site 201", "Site 203"]
    distances = [r.distance_miles for r in rows]
    assert distances == sorted(distances)


def test_bounding_box_never_cuts_off_a_site_within_the_radius():
    for lat, lon, miles in [(40.0, -74.0, 100), (69.5, 10.0, 300), (-45.0, 179.5, 80), (0.0, 0.0, 1000)]:
        min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, miles)
        for bearing in range(0, 360, 5):
            # a point exactly `miles` away at this bearing (spherical destination formula)
            d, th, p1, l1 = miles / R, math.radians(bearing), math.radians(lat), math.radians(lon)
            p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(th))
            l2 = l1 + math.atan2(math.sin(th) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
            plat, plon = math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
            assert haversine_miles(lat, lon, plat, plon) == pytest.approx(miles, rel=1e-9)
            assert min_lat - 1e-9 <= plat <= max_lat + 1e-9
            if min_lon is not None:
                assert min_lon - 1e-9 <= plon <= max_lon + 1e-9


def test_condition_search_follows_mesh_descendants_and_text(own):
    breast = Condition.objects.get(mesh_id="D001943")
    tnbc = template("NCT91000004", locations=[], mesh=("D064726", "Triple Negative Breast Neoplasms"))
    tnbc["protocolSection"]["conditionsModule"] = {"conditions": ["TNBC"], "keywords": []}
    import_payload(payload=tnbc, source="test")
    # Same last-update date: then by NCT id.
    assert ids(search_trials(query=TrialQuery(condition_ids=(breast.pk,)))) == ["NCT90000002", "NCT91000004"]
    tnbc_condition = Condition.objects.get(mesh_id="D064726")
    assert ids(search_trials(query=TrialQuery(condition_ids=(tnbc_condition.pk,)))) == ["NCT91000004"]
    # Text: taxonomy names and synonyms ("triple-negative breast cancer" → TNBC), and plain condition text.
    assert ids(search_trials(query=TrialQuery(condition_text="triple-negative breast cancer"))) == ["NCT91000004"]
    assert ids(search_trials(query=TrialQuery(condition_text="multiple sclerosis"))) == ["NCT90000001", "NCT90000004"]
    assert ids(search_trials(query=TrialQuery(condition_text="sclérose en plaques"))) == ["NCT90000004"]


def test_status_phase_type_and_keyword_filters(own):
    everything = TrialQuery(statuses=())
    assert len(search_trials(query=everything).hits) == 5
    assert set(ids(search_trials(query=TrialQuery()))) == {"NCT90000001", "NCT90000002", "NCT90000004", "NCT90000005"}
    assert ids(search_trials(query=TrialQuery(statuses=("TERMINATED",)))) == ["NCT90000003"]
    assert ids(search_trials(query=TrialQuery(phases=("PHASE3",)))) == ["NCT90000001"]
    assert set(ids(search_trials(query=TrialQuery(phases=("PHASE1", "PHASE3"))))) == {"NCT90000001", "NCT90000004"}
    assert ids(search_trials(query=TrialQuery(study_types=("OBSERVATIONAL",)))) == ["NCT90000005"]
    assert ids(search_trials(query=TrialQuery(keyword="Remyelination"))) == ["NCT90000001"]
    assert ids(search_trials(query=TrialQuery(keyword="supervised exercise"))) == ["NCT90000002"]
    assert ids(search_trials(query=TrialQuery(keyword="nothing-like-this"))) == []


def test_paging(own):
    first = search_trials(query=TrialQuery(statuses=()), limit=2)
    second = search_trials(query=TrialQuery(statuses=()), limit=2, offset=2)
    third = search_trials(query=TrialQuery(statuses=()), limit=2, offset=4)
    assert (first.has_more, second.has_more, third.has_more) == (True, True, False)
    assert len(set(ids(first) + ids(second) + ids(third))) == 5


def trial(**fields):
    defaults = {"sex": "ALL", "minimum_age_years": 18.0, "maximum_age_years": 65.0, "minimum_age_text": "18 Years",
                "maximum_age_text": "65 Years"}  # fmt: skip
    return SimpleNamespace(**{**defaults, **fields})


def person(birth_year=None, sex=""):
    return SimpleNamespace(is_authenticated=True, birth_year=birth_year, sex=sex)


TODAY = datetime.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("t", "m", "hint"),
    [
        (trial(), person(1980, "female"), MAY_FIT),
        (trial(), person(1980, ""), MAY_FIT),  # the trial takes all sexes
        (trial(), person(None, "male"), UNKNOWN),  # age unknown
        (trial(minimum_age_years=None, maximum_age_years=None), person(None, "male"), MAY_FIT),
        (trial(), person(2015), DOES_NOT_FIT),  # 10 or 11: too young
        (trial(), person(1950), DOES_NOT_FIT),  # 75 or 76: too old
        (trial(), person(2008), UNKNOWN),  # 17 or 18: depends on the birthday
        (trial(), person(1961), MAY_FIT),  # 64 or 65: within 18-65 either way
        (trial(), person(1960), UNKNOWN),  # 65 or 66: depends on the birthday
        (trial(sex="FEMALE"), person(1980, "male"), DOES_NOT_FIT),
        (trial(sex="FEMALE"), person(1980, "female"), MAY_FIT),
        (trial(sex="FEMALE"), person(1980, ""), UNKNOWN),
        (
            trial(sex="MALE", minimum_age_years=None, maximum_age_years=17.0, maximum_age_text="17 Years"),
            person(1990, "male"),
            DOES_NOT_FIT,
        ),
    ],
)
def test_eligibility_hints(t, m, hint):
    assert eligibility_hint(trial=t, member=m, today=TODAY)[0] == hint


def test_eligibility_reasons_and_anonymous():
    assert eligibility_hint(trial=trial(sex="MALE"), member=person(2015, "female"), today=TODAY) == (
        DOES_NOT_FIT,
        ["minimum age 18 Years", "male participants only"],
    )
    assert eligibility_hint(trial=trial(), member=SimpleNamespace(is_authenticated=False), today=TODAY) == (UNKNOWN, [])


def test_places_resolve():
    assert resolve_place("Leeds").label == "Leeds, England, GB"
    assert resolve_place("Boston, MA").label == "Boston, Massachusetts, US"
    assert resolve_place("Birmingham, Alabama").lat == pytest.approx(33.5186)
    assert resolve_place("Birmingham, UK").lat == pytest.approx(52.4862)
    assert resolve_place("02115").label == "021, Massachusetts, US"
    assert resolve_place("LS1 4AP").label == "LS, England, GB"
    assert (resolve_place("51.5,-0.12").lat, resolve_place("51.5,-0.12").lon) == (51.5, -0.12)
    assert resolve_place("95.0, 10") is None
    assert resolve_place("Atlantis") is None
    assert resolve_place("") is None


def test_places_fall_back_to_trial_sites():
    record = template(
        "NCT91000005",
        locations=[
            {"facility": "A", "city": "Kindredville", "country": "Testland", "geoPoint": {"lat": 10.0, "lon": 20.0}},
            {"facility": "B", "city": "Kindredville", "country": "Testland", "geoPoint": {"lat": 10.2, "lon": 20.4}},
        ],
    )
    import_payload(payload=copy.deepcopy(record), source="test")
    place = resolve_place("Kindredville")
    assert (place.label, round(place.lat, 6), round(place.lon, 6)) == ("Kindredville, Testland", 10.1, 20.2)
