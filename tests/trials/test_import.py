"""import_trials: field-level results, idempotency, incremental updates, rejections that lose nothing."""

from __future__ import annotations

import copy
import datetime
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from conditions.models import Condition
from tests.trials.conftest import BAD_FIXTURES, OWN_FIXTURES
from trials.importer import normalise_mesh_id, parse_age_years
from trials.models import Trial, TrialCondition, TrialSite
from trials.services import import_paths, import_payload

pytestmark = pytest.mark.django_db


def run_command(*paths: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_trials", *[str(p) for p in paths], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot() -> list[tuple]:
    return (
        list(
            Trial.objects.order_by("nct_id").values_list("nct_id", "overall_status", "last_update_posted", "updated_at")
        )
        + list(TrialSite.objects.order_by("id").values_list("id", "trial_id", "lat"))
        + list(TrialCondition.objects.order_by("id").values_list("id", "trial_id", "condition_id"))
    )


def test_own_fixtures_field_by_field():
    out, err = run_command(OWN_FIXTURES)
    assert out.strip() == "new: 5, updated: 0, unchanged: 0, rejected: 1"
    assert "own-page.json[1]: (no NCT id): nctId is int, expected a string" in err

    ms = Trial.objects.get(nct_id="NCT90000001")
    assert ms.brief_title == "Remyelination Drug in Relapsing MS"
    assert ms.official_title == "A Study of Remyelination Drug in Relapsing MS"
    assert ms.overall_status == "RECRUITING"
    assert ms.phases == ["PHASE2", "PHASE3"]
    assert ms.study_type == "INTERVENTIONAL"
    assert ms.conditions == ["Relapsing Multiple Sclerosis"]
    assert ms.keywords == ["remyelination"]
    assert ms.mesh_terms == [{"id": "D009103", "term": "Multiple Sclerosis"}]
    assert ms.interventions == [{"type": "DRUG", "name": "Examplumab", "description": ""}]
    assert (ms.sex, ms.minimum_age_years, ms.maximum_age_years, ms.healthy_volunteers) == ("ALL", 18.0, 65.0, False)
    assert ms.lead_sponsor == "Kindred Test Sponsor"
    assert ms.start_date == datetime.date(2024, 1, 1)
    assert ms.completion_date == datetime.date(2027, 6, 30)
    assert ms.first_posted == datetime.date(2024, 1, 15)
    assert ms.last_update_posted == datetime.date(2025, 3, 1)
    assert ms.central_contacts == [
        {
            "name": "Dr. Ana Test",
            "role": "CONTACT",
            "phone": "617-555-0101",
            "phoneExt": "12",
            "email": "ana@example.org",
        }
    ]
    # The original record, byte for byte.
    assert ms.raw_json == (OWN_FIXTURES / "own-ms-recruiting.json").read_text().strip()
    assert ms.record == json.loads((OWN_FIXTURES / "own-ms-recruiting.json").read_text())
    sites = list(
        ms.sites.order_by("position").values_list("facility", "city", "state", "zip", "country", "status", "lat", "lon")
    )
    assert sites == [
        (
            "Massachusetts General Hospital",
            "Boston",
            "Massachusetts",
            "02114",
            "United States",
            "RECRUITING",
            42.3626,
            -71.0695,
        ),
        ("Leeds General Infirmary", "Leeds", "", "", "United Kingdom", "RECRUITING", 53.8017, -1.5526),
        ("Clinic Without Coordinates", "Springfield", "Illinois", "", "United States", "RECRUITING", None, None),
    ]
    assert ms.site_count == 3
    ms_condition = Condition.objects.get(mesh_id="D009103")
    assert list(TrialCondition.objects.filter(trial=ms, direct=True).values_list("condition_id", flat=True)) == [
        ms_condition.pk
    ]

    noloc = Trial.objects.get(nct_id="NCT90000002")
    assert (noloc.site_count, noloc.sites.count(), noloc.sex, noloc.maximum_age_years) == (0, 0, "FEMALE", None)
    assert noloc.phases == ["NA"]

    nonascii = Trial.objects.get(nct_id="NCT90000004")
    assert nonascii.brief_title == "Étude sur la sclérose en plaques — Malmö och São Paulo"
    assert list(nonascii.sites.order_by("position").values_list("city", flat=True)) == ["Malmö", "São Paulo", "Québec"]
    assert len(nonascii.eligibility_criteria) > 8000
    assert (nonascii.minimum_age_years, nonascii.maximum_age_years) == (0.5, 17.0)
    assert Trial.objects.get(nct_id="NCT90000003").overall_status == "TERMINATED"
    assert Trial.objects.get(nct_id="NCT90000005").healthy_volunteers is True


def test_malformed_records_are_reported_and_lose_nothing_from_good_ones():
    out, err = run_command(BAD_FIXTURES, OWN_FIXTURES / "own-ms-recruiting.json")
    assert out.strip() == "new: 1, updated: 0, unchanged: 0, rejected: 4"
    lines = sorted(line.split("fixtures/")[-1] for line in err.strip().splitlines())
    assert lines[0] == "bad-geo-string.json: NCT90000009: locations[0].geoPoint.lat is str, expected a number"
    assert lines[1] == "bad-missing-nctid.json: (no NCT id): missing nctId"
    assert lines[2].startswith("bad-truncated.json: (no NCT id): not valid JSON (")
    assert lines[3] == "bad-wrong-types.json: NCT90000008: phases is str, expected a list"
    assert list(Trial.objects.values_list("nct_id", flat=True)) == ["NCT90000001"]
    assert TrialSite.objects.count() == 3


def test_importing_twice_changes_nothing():
    import_paths(paths=[OWN_FIXTURES])
    before = snapshot()
    report = import_paths(paths=[OWN_FIXTURES])
    assert report.as_dict() == {"new": 0, "updated": 0, "unchanged": 5, "rejected": 1}
    assert snapshot() == before


def _ms_record() -> dict:
    return json.loads((OWN_FIXTURES / "own-ms-recruiting.json").read_text())


def test_newer_version_replaces_older_is_skipped():
    import_paths(paths=[OWN_FIXTURES / "own-ms-recruiting.json"])
    trial = Trial.objects.get(nct_id="NCT90000001")

    older = _ms_record()
    older["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2024-12-31"
    older["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
    assert import_payload(payload=older, source="older").as_dict() == {
        "new": 0,
        "updated": 0,
        "unchanged": 1,
        "rejected": 0,
    }
    same_date = copy.deepcopy(older)
    same_date["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2025-03-01"
    assert import_payload(payload=same_date, source="same").as_dict()["unchanged"] == 1
    trial.refresh_from_db()
    assert trial.overall_status == "RECRUITING"

    newer = _ms_record()
    newer["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2025-04-02"
    newer["protocolSection"]["statusModule"]["overallStatus"] = "ACTIVE_NOT_RECRUITING"
    newer["protocolSection"]["contactsLocationsModule"]["locations"] = newer["protocolSection"][
        "contactsLocationsModule"
    ]["locations"][:1]
    report = import_payload(payload=newer, source="newer")
    assert report.as_dict() == {"new": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    assert report.status_changes == [(trial.pk, "RECRUITING", "ACTIVE_NOT_RECRUITING")]
    trial.refresh_from_db()
    assert (trial.pk, trial.overall_status, trial.last_update_posted, trial.site_count) == (
        trial.pk,
        "ACTIVE_NOT_RECRUITING",
        datetime.date(2025, 4, 2),
        1,
    )
    assert list(trial.sites.values_list("city", flat=True)) == ["Boston"]
    assert trial.record["protocolSection"]["statusModule"]["overallStatus"] == "ACTIVE_NOT_RECRUITING"


def test_within_one_payload_the_newest_version_wins():
    old, new = _ms_record(), _ms_record()
    new["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2025-05-05"
    new["protocolSection"]["identificationModule"]["briefTitle"] = "Renamed"
    report = import_payload(payload={"studies": [new, old]}, source="page")
    assert report.as_dict() == {"new": 1, "updated": 0, "unchanged": 1, "rejected": 0}
    assert Trial.objects.get(nct_id="NCT90000001").brief_title == "Renamed"


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("18 Years", 18.0),
        ("1 Year", 1.0),
        ("6 Months", 0.5),
        ("2 Weeks", 0.0383),
        ("1 Day", 0.0027),
        ("N/A", None),
        ("", None),
    ],
)
def test_age_parsing(text, years):
    assert parse_age_years(text) == years


def test_mesh_ids_normalise_to_the_taxonomy_form():
    assert normalise_mesh_id("D000003920") == "D003920"
    assert normalise_mesh_id("D003920") == "D003920"
    assert normalise_mesh_id("D064726") == "D064726"


def test_shared_records_import_without_crashes_idempotently(ctgov_dir):
    files = sorted(ctgov_dir.glob("*.json"))
    report = import_paths(paths=[ctgov_dir])
    studies = sum(len(json.loads(f.read_text()).get("studies", [None])) for f in files)
    assert report.created + report.rejected == studies
    assert report.rejected == 0, [str(r) for r in report.rejections]
    assert Trial.objects.count() == 221
    before = snapshot()
    again = import_paths(paths=[ctgov_dir])
    assert again.as_dict() == {"new": 0, "updated": 0, "unchanged": 221, "rejected": 0}
    assert snapshot() == before


def test_chosen_shared_records_field_level(ctgov_dir):
    import_paths(paths=[ctgov_dir])
    bms = Trial.objects.get(nct_id="NCT00162175")
    assert bms.brief_title == "PPAR-COMBO With Sulfonylurea"
    assert (bms.overall_status, bms.phases, bms.study_type) == ("COMPLETED", ["PHASE3"], "INTERVENTIONAL")
    assert (bms.minimum_age_years, bms.maximum_age_years, bms.sex) == (18.0, 70.0, "ALL")
    assert bms.lead_sponsor == "Bristol-Myers Squibb"
    assert bms.start_date == datetime.date(2003, 7, 1)
    assert bms.last_update_posted == datetime.date(2010, 9, 14)
    assert bms.mesh_terms == [{"id": "D003920", "term": "Diabetes Mellitus"}]
    assert bms.site_count == 150
    first = bms.sites.get(position=0)
    assert (first.facility, first.city, first.state, first.lat, first.lon) == (
        "Local Institution", "Anniston", "Alabama", 33.65983, -85.83163,
    )  # fmt: skip
    assert bms.sites.filter(lat__isnull=True).exists()  # loc_without_geo

    scleroderma = Trial.objects.get(nct_id="NCT02682511")
    assert scleroderma.overall_status == "RECRUITING"
    assert scleroderma.keywords == ["Ifetroban", "Scleroderma", "Systemic Sclerosis"]
    assert scleroderma.central_contacts[0] == {
        "name": "Ingrid Anderson, PhD, CCRP", "role": "CONTACT", "phone": "615-255-0068", "phoneExt": "250",
        "email": "ianderson@cumberlandpharma.com",
    }  # fmt: skip
    tucson = scleroderma.sites.get(position=0)
    assert (tucson.city, tucson.zip, tucson.status, tucson.lat, tucson.lon) == (
        "Tucson", "85724", "RECRUITING", 32.22174, -110.92648,
    )  # fmt: skip

    assert Trial.objects.get(nct_id="NCT02299791").site_count == 0  # noloc
    assert Trial.objects.get(nct_id="NCT02175381").phases == ["PHASE1", "PHASE2"]  # multiphase
    assert Trial.objects.get(nct_id="NCT00973089").overall_status == "WITHDRAWN"
    assert Trial.objects.get(nct_id="NCT04524598").source.endswith("page-1.json[0]")


def test_page_records_keep_their_exact_text_and_a_truncated_page_keeps_what_came_before(tmp_path):
    names = ("own-ms-recruiting.json", "own-stopped.json", "own-breast-noloc.json")
    studies = [json.loads((OWN_FIXTURES / name).read_text()) for name in names]
    text = json.dumps({"studies": studies, "nextPageToken": "NEXT"}, ensure_ascii=False)
    whole, broken = tmp_path / "page.json", tmp_path / "broken.json"
    whole.write_text(text)
    broken.write_text(text[: text.index('"NCT90000002"')])  # cut inside the third study

    report = import_paths(paths=[broken])
    assert report.as_dict() == {"new": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert str(report.rejections[0]).startswith(f"{broken}[2]: (no NCT id): not valid JSON (")
    assert Trial.objects.get(nct_id="NCT90000003").raw_json == json.dumps(studies[1], ensure_ascii=False)

    assert import_paths(paths=[whole]).as_dict() == {"new": 1, "updated": 0, "unchanged": 2, "rejected": 0}
    assert Trial.objects.get(nct_id="NCT90000002").raw_json == json.dumps(studies[2], ensure_ascii=False)
    assert Trial.objects.get(nct_id="NCT90000002").source == f"{whole}[2]"


def test_awkward_characters_survive_the_copy_stream():
    study = json.loads((OWN_FIXTURES / "own-ms-recruiting.json").read_text())
    awkward = 'Tab\there, new\nline, back\\slash, CR\r, quote " and {brace}, NUL\x00 gone, ünï'
    study["protocolSection"]["identificationModule"]["briefTitle"] = awkward
    study["protocolSection"]["conditionsModule"]["conditions"] = [awkward, "plain"]
    location = study["protocolSection"]["contactsLocationsModule"]["locations"][0]
    location["facility"] = awkward
    location["geoPoint"] = {"lat": 42, "lon": -71}  # integers are numbers too
    import_payload(payload=study, source="awkward")
    trial = Trial.objects.get(nct_id="NCT90000001")
    clean = awkward.replace("\x00", "")
    assert (trial.brief_title, trial.conditions) == (clean, [clean, "plain"])
    site = trial.sites.get(position=0)
    assert (site.facility, site.lat, site.lon) == (clean, 42.0, -71.0)
    assert trial.record["protocolSection"]["identificationModule"]["briefTitle"] == awkward


def test_demo_loads_the_shared_records_or_our_fixtures():
    from django.conf import settings

    from demo.services import DemoSummary, _ensure_trials

    summary = DemoSummary(password="x")
    _ensure_trials(summary=summary)
    shared = settings.BASE_DIR.parent / "shared" / "data" / "ctgov"
    expected_new = 221 if shared.is_dir() else 5
    assert (summary.trials["new"], summary.trials["rejected"]) == (expected_new, 0 if shared.is_dir() else 1)
    assert Trial.objects.count() == expected_new
    again = DemoSummary(password="x")
    _ensure_trials(summary=again)
    assert again.trials["new"] == 0
