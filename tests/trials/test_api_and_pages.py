"""Trials over HTTP: the API on the root and on tenant hosts, the pages, saving, alerts, the schema."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from conditions.models import Condition
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import MemberFactory
from tests.trials.conftest import OWN_FIXTURES
from trials.models import SavedTrial, TrialAlert, TrialNotice
from trials.services import import_paths

pytestmark = pytest.mark.django_db

HOSTS = ["localhost", TENANT_A["domain"]]


@pytest.fixture
def own(tenant_a, tenant_b):
    import_paths(paths=[OWN_FIXTURES])


@pytest.fixture
def maria():
    member = MemberFactory(display_name="Maria", birth_year=1980, sex="female", region="Boston", country="US")
    member.conditions.set([Condition.objects.get(mesh_id="D009103")])
    return member


@pytest.mark.parametrize("host", HOSTS)
def test_search_api_with_every_filter(own, host):
    client = host_client(host)
    response = client.get("/api/v1/trials/", {"condition": "multiple sclerosis", "near": "New York", "within": "250"})
    assert response.status_code == 200
    body = response.json()
    assert [(r["nct_id"], round(r["distance_miles"], 1)) for r in body["results"]] == [("NCT90000001", 189.9)]
    assert body["place"] == {"name": "New York, New York, US", "lat": 40.7128, "lon": -74.006}
    assert body["results"][0]["url"] == "https://clinicaltrials.gov/study/NCT90000001"
    assert body["results"][0]["eligibility_hint"] == "unknown"  # anonymous

    def nct_ids(**params):
        return [r["nct_id"] for r in client.get("/api/v1/trials/", params).json()["results"]]

    assert nct_ids(status="any", phase="PHASE4") == ["NCT90000003"]
    assert nct_ids(study_type="OBSERVATIONAL") == ["NCT90000005"]
    assert nct_ids(q="remyelination") == ["NCT90000001"]
    assert nct_ids(lat="40.7128", lon="-74.0060", within="10") == ["NCT90000005"]


def test_search_api_units(own):
    client = host_client("localhost")
    # Hospital for Special Surgery is 4.51 mi = 7.25 km from the centre of New York.
    results = client.get("/api/v1/trials/", {"near": "New York", "within": "8", "unit": "km"}).json()["results"]
    assert [(r["nct_id"], round(r["distance_km"], 2)) for r in results] == [("NCT90000005", 7.25)]
    assert client.get("/api/v1/trials/", {"near": "New York", "within": "7", "unit": "km"}).json()["results"] == []


def test_bad_search_parameters_are_refused_clearly(own):
    client = host_client("localhost")
    response = client.get("/api/v1/trials/", {"near": "Atlantis", "within": "x", "status": "MAYBE", "phase": "PHASE9"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["details"]) == {"near", "within", "status", "phase"}


def test_signed_in_search_shows_eligibility_hints(own, maria):
    client = signed_in("localhost", maria)
    results = client.get("/api/v1/trials/", {"status": "any"}).json()["results"]
    hints = {r["nct_id"]: (r["eligibility_hint"], r["eligibility_reasons"]) for r in results}
    assert hints["NCT90000001"] == ("may_fit", [])
    assert hints["NCT90000002"] == ("may_fit", [])  # women 18+
    assert hints["NCT90000004"] == ("does_not_fit", ["maximum age 17 Years"])


@pytest.mark.parametrize("host", HOSTS)
def test_detail_sorts_sites_by_distance_and_lists_contacts(own, host):
    client = host_client(host)
    body = client.get("/api/v1/trials/nct90000001/", {"near": "Leeds"}).json()
    assert [
        (s["city"], None if s["distance_miles"] is None else round(s["distance_miles"])) for s in body["sites"]
    ] == [
        ("Leeds", 0),
        ("Boston", 3169),  # by hand: 3169.2 mi
        ("Springfield", None),
    ]
    assert body["central_contacts"][0]["email"] == "ana@example.org"
    assert body["url"] == "https://clinicaltrials.gov/study/NCT90000001"
    assert body["saved"] is False
    assert client.get("/api/v1/trials/NCT99999999/").status_code == 404


def test_saving_needs_a_member_and_only_shows_ones_own(own, maria):
    anonymous = host_client("localhost")
    assert anonymous.post("/api/v1/trials/NCT90000001/save/").status_code == 401
    assert anonymous.get("/api/v1/trials/saved/").status_code == 401
    assert not SavedTrial.objects.exists()

    client = signed_in(TENANT_A["domain"], maria)
    assert client.post("/api/v1/trials/NCT90000001/save/").status_code == 201
    assert client.post("/api/v1/trials/NCT90000001/save/").status_code == 201  # idempotent
    assert client.post("/api/v1/trials/NCT99999999/save/").status_code == 404
    assert [s["nct_id"] for s in client.get("/api/v1/trials/saved/").json()] == ["NCT90000001"]
    assert client.get("/api/v1/trials/NCT90000001/").json()["saved"] is True
    # Saved trials are the member's, on every host.
    assert [s["nct_id"] for s in signed_in(TENANT_B["domain"], maria).get("/api/v1/trials/saved/").json()] == [
        "NCT90000001"
    ]
    other = signed_in("localhost", MemberFactory())
    assert other.get("/api/v1/trials/saved/").json() == []
    assert other.get("/api/v1/trials/NCT90000001/").json()["saved"] is False
    assert client.delete("/api/v1/trials/NCT90000001/save/").status_code == 204
    assert not SavedTrial.objects.exists()


def test_alert_settings_validate_and_lose_nothing(maria):
    client = signed_in("localhost", maria)
    assert client.get("/api/v1/trials/alert/").status_code == 404
    bad = client.put(
        "/api/v1/trials/alert/", {"place": "Atlantis", "distance_miles": 50}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert bad.json()["details"] == {
        "place": ["We could not find that place: try a city, a postcode or 'latitude, longitude'."]
    }
    assert not TrialAlert.objects.exists()
    good = client.put(
        "/api/v1/trials/alert/", {"place": "02115", "distance_miles": 60}, content_type="application/json"
    )
    assert good.status_code == 200
    assert good.json() | {"updated_at": None} == {
        "active": True, "place": "021, Massachusetts, US", "lat": 42.3467, "lon": -71.0972, "distance_miles": 60,
        "updated_at": None,
    }  # fmt: skip
    too_far = client.put(
        "/api/v1/trials/alert/", {"place": "Leeds", "distance_miles": 9000}, content_type="application/json"
    )
    assert too_far.status_code == 400
    assert TrialAlert.objects.get().place == "021, Massachusetts, US"
    assert (
        host_client("localhost").put("/api/v1/trials/alert/", {"place": "Leeds", "distance_miles": 5}).status_code
        == 401
    )


def test_notices_are_private(own, maria):
    from trials.models import Trial

    stranger = MemberFactory()
    TrialNotice.objects.create(
        member=maria, trial=Trial.objects.get(nct_id="NCT90000001"), kind="status", key="a", message="Hi Maria"
    )
    assert [n["message"] for n in signed_in("localhost", maria).get("/api/v1/trials/notices/").json()] == ["Hi Maria"]
    assert signed_in("localhost", stranger).get("/api/v1/trials/notices/").json() == []
    assert signed_in("localhost", stranger).post("/api/v1/trials/notices/read/").json() == {"marked": 0}
    assert TrialNotice.objects.get().read_at is None
    assert signed_in("localhost", maria).post("/api/v1/trials/notices/read/").json() == {"marked": 1}


@pytest.mark.parametrize("urlconf", ["config.urls_public", "config.urls_tenant"])
def test_openapi_schema_has_the_trial_paths_without_warnings(tmp_path, urlconf):
    out = tmp_path / "schema.json"
    call_command(
        "spectacular",
        "--urlconf",
        urlconf,
        "--file",
        str(out),
        "--format",
        "openapi-json",
        "--fail-on-warn",
        stderr=StringIO(),
    )
    paths = set(json.loads(out.read_text())["paths"])
    assert {
        "/api/v1/trials/", "/api/v1/trials/{nct_id}/", "/api/v1/trials/{nct_id}/save/", "/api/v1/trials/saved/",
        "/api/v1/trials/alert/", "/api/v1/trials/notices/", "/api/v1/trials/notices/read/",
    } <= paths  # fmt: skip
    assert ("/api/v1/trials/{nct_id}/discussions/" in paths) == (urlconf == "config.urls_tenant")


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", HOSTS)
def test_search_page(own, host):
    response = host_client(host).get(
        "/trials/", {"condition": "multiple sclerosis", "near": "New York", "within": "250"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-nct="NCT90000001"' in html
    assert 'data-nct="NCT90000004"' not in html  # Malmö and São Paulo are far from New York
    assert "Nearest site 190 mi (306 km)" in html
    assert "Distances from New York, New York, US." in html
    bad = host_client(host).get("/trials/", {"near": "Atlantis"})
    assert bad.status_code == 400
    assert "We could not find" in bad.content.decode()


@pytest.mark.parametrize("host", HOSTS)
def test_trial_page(own, maria, host):
    response = signed_in(host, maria).get("/trials/NCT90000001/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="https://clinicaltrials.gov/study/NCT90000001"' in html
    assert "Nearest first from Boston, Massachusetts, US." in html  # the member's region
    assert (
        html.index("Massachusetts General Hospital")
        < html.index("Leeds General Infirmary")
        < html.index("Clinic Without Coordinates")
    )
    assert "617-555-0101 ext. 12" in html
    assert "you may fit this trial" in html
    assert "Save and follow this trial" in html
    assert host_client(host).get("/trials/NCT99999999/").status_code == 404


def test_save_from_the_page_and_my_trials(own, maria):
    client = signed_in(TENANT_A["domain"], maria)
    response = client.post("/trials/NCT90000001/save/")
    assert response.status_code == 302
    assert SavedTrial.objects.filter(member=maria).count() == 1
    page = client.get("/trials/saved/").content.decode()
    assert "Remyelination Drug in Relapsing MS" in page
    assert "Trials for you" in page
    anonymous = host_client(TENANT_A["domain"]).post("/trials/NCT90000002/save/")
    assert anonymous.status_code == 302 and "/auth/login/" in anonymous["Location"]
    assert SavedTrial.objects.count() == 1


def test_alert_page(maria):
    client = signed_in("localhost", maria)
    bad = client.post("/trials/alert/", {"place": "Atlantis", "distance_miles": "50", "active": "on"})
    assert bad.status_code == 400
    assert not TrialAlert.objects.exists()
    assert client.post("/trials/alert/", {"place": "Leeds", "distance_miles": "50", "active": "on"}).status_code == 302
    alert = TrialAlert.objects.get()
    assert (alert.place, alert.distance_miles, alert.active) == ("Leeds, England, GB", 50, True)


def test_trials_for_you_on_the_tenant_home(own, maria):
    html = signed_in(TENANT_A["domain"], maria).get("/").content.decode()
    assert "Trials for you" in html
    assert "Remyelination Drug in Relapsing MS" in html  # MS, recruiting, 0 mi from Boston
    assert "Étude sur la sclérose" not in html  # MS too, but not within 100 miles of Boston


def test_search_page_queries_do_not_grow_with_results(own, maria):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(TENANT_A["domain"], maria)

    def count(params):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/trials/", params).status_code == 200
        return len(ctx.captured_queries)

    client.get("/trials/")  # warm caches (the theme): steady-state counts are compared
    one = count({"q": "remyelination", "near": "Boston", "within": "100"})
    many = count({"status": "any", "near": "Boston", "within": "12000"})
    assert one == many


def test_staff_see_trials_and_sync_runs_in_the_admin(own):
    staff = MemberFactory(is_staff=True, is_superuser=True)
    client = signed_in("localhost", staff)
    assert "NCT90000001" in client.get("/admin/trials/trial/").content.decode()
    assert client.get("/admin/trials/syncrun/").status_code == 200
    assert client.get("/admin/trials/trial/add/").status_code == 403


def test_members_may_give_their_sex_for_hints_and_may_leave_it_out(own):
    member = MemberFactory(birth_year=1980)
    client = signed_in("localhost", member)
    hint = client.get("/api/v1/trials/NCT90000002/").json()["eligibility_hint"]  # women only
    assert hint == "unknown"
    bad = client.patch("/api/v1/me/", {"sex": "x"}, content_type="application/json")
    assert bad.status_code == 400
    member.refresh_from_db()
    assert member.sex == ""
    assert client.patch("/api/v1/me/", {"sex": "male"}, content_type="application/json").status_code == 200
    member.refresh_from_db()
    assert member.sex == "male"
    assert client.get("/api/v1/trials/NCT90000002/").json()["eligibility_reasons"] == ["female participants only"]
    assert client.patch("/api/v1/me/", {"sex": ""}, content_type="application/json").status_code == 200
    member.refresh_from_db()
    assert member.sex == ""
