"""The consent API on the root and tenant hosts, and the FHIR R4 Consent export."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.utils import timezone

from consent import services
from consent.models import ConsentRecord, ConsentSubject
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.consent.conftest import CONTACT, NEWSLETTERS, RESEARCH, publish_next
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ROOT = settings.ROOT_DOMAIN
FHIR_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def test_purposes_and_policy_are_public(policy_v1):
    client = host_client(ROOT)
    purposes = client.get("/api/v1/consent/purposes/").json()
    assert [p["code"] for p in purposes] == [RESEARCH, CONTACT, NEWSLETTERS]
    assert set(purposes[0]) == {"code", "name", "description"}
    policy = client.get("/api/v1/consent/policy/").json()
    assert policy["version"] == 1
    assert policy["text_html"] == "<h2>Version one</h2>\n<p>We ask before sharing anything.</p>"
    assert [(p["code"], p["material_change"]) for p in policy["purposes"]] == [
        (RESEARCH, False),
        (CONTACT, False),
        (NEWSLETTERS, False),
    ]


def test_no_policy_yet_is_a_404(purposes):
    assert host_client(ROOT).get("/api/v1/consent/policy/").status_code == 404


@pytest.mark.parametrize("host", [ROOT, TENANT_A["domain"]])
def test_decide_and_read_back_through_the_api(policy_v1, tenant_a, host):
    member = MemberFactory()
    client = signed_in(host, member)
    created = client.post("/api/v1/consent/decisions/", {"purpose": RESEARCH, "granted": True}, "application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    expected_tenant = tenant_a.schema_name if host != ROOT else ""
    assert {k: body[k] for k in ("purpose", "decision", "policy_version", "tenant", "channel")} == {
        "purpose": RESEARCH,
        "decision": "granted",
        "policy_version": 1,
        "tenant": expected_tenant,
        "channel": "api",
    }
    me = client.get("/api/v1/consent/me/").json()
    assert [(s["purpose"], s["state"], s["consenting"]) for s in me] == [
        (RESEARCH, "granted", True),
        (CONTACT, "not_asked", False),
        (NEWSLETTERS, "not_asked", False),
    ]
    history = client.get("/api/v1/consent/history/").json()
    assert [(h["id"], h["decision"], h["tenant"]) for h in history] == [(body["id"], "granted", expected_tenant)]


def test_api_refuses_bad_input_and_anonymous_callers_and_writes_nothing(policy_v1):
    member = MemberFactory()
    client = signed_in(ROOT, member)
    bad = client.post("/api/v1/consent/decisions/", {"purpose": "sell-data", "granted": True}, "application/json")
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "invalid",
        "message": "This purpose is not part of the current policy.",
        "details": {"purpose": ["Unknown purpose: sell-data."]},
    }
    missing = client.post("/api/v1/consent/decisions/", {"purpose": RESEARCH}, "application/json")
    assert missing.status_code == 400 and list(missing.json()["details"]) == ["granted"]
    anonymous = host_client(ROOT)
    assert anonymous.post("/api/v1/consent/decisions/", {"purpose": RESEARCH, "granted": True}).status_code == 401
    for path in ("/api/v1/consent/me/", "/api/v1/consent/history/", "/api/v1/consent/fhir/"):
        assert anonymous.get(path).status_code == 401, path
    assert ConsentRecord.objects.count() == 0


def test_no_api_method_changes_or_removes_a_decision(policy_v1):
    member = MemberFactory()
    client = signed_in(ROOT, member)
    record = services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    for path in [f"/api/v1/consent/{p}/" for p in ("purposes", "policy", "me", "decisions", "history", "fhir")]:
        for method in ("put", "patch", "delete"):
            response = getattr(client, method)(path, {"decision": "withdrawn"}, "application/json")
            assert response.status_code == 405, (method, path)
    assert [(r.pk, r.decision) for r in ConsentRecord.objects.all()] == [(record.pk, "granted")]


def test_api_signup_records_only_the_purposes_sent(policy_v1):
    from members.models import Member

    client = host_client(ROOT)
    payload = {"email": "api-signup@example.test", "password": "a-long-unusual-password", "consents": [RESEARCH]}
    assert client.post("/api/v1/auth/signup/", payload, "application/json").status_code == 202
    member = Member.objects.get(email="api-signup@example.test")
    assert [(r.purpose.code, r.channel) for r in ConsentRecord.objects.filter(subject__member=member)] == [
        (RESEARCH, "api")
    ]
    bad = {"email": "api-bad@example.test", "password": "a-long-unusual-password", "consents": ["nope"]}
    response = client.post("/api/v1/auth/signup/", bad, "application/json")
    assert response.status_code == 400
    assert not Member.objects.filter(email="api-bad@example.test").exists()  # one transaction: nothing kept


def test_fhir_bundle_has_one_r4_consent_per_decision(policy_v1, purposes, tenant_a):
    member = MemberFactory()
    subject_pseudonym = str(services.ensure_subject(member=member).pseudonym)
    start = timezone.now() - datetime.timedelta(days=3)
    grant = services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web", now=start)
    contact = services.record_consent(
        member=member, purpose=CONTACT, granted=True, channel="web", now=start + datetime.timedelta(hours=1)
    )
    withdraw = services.record_consent(
        member=member, purpose=CONTACT, granted=False, channel="web", now=start + datetime.timedelta(hours=2)
    )
    news = services.record_consent(
        member=member, purpose=NEWSLETTERS, granted=True, channel="web", now=start + datetime.timedelta(hours=3)
    )
    v2 = publish_next(purposes, material=[NEWSLETTERS], effective_at=start + datetime.timedelta(days=1))
    response = signed_in(TENANT_A["domain"], member).get("/api/v1/consent/fhir/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert FHIR_DATETIME.match(bundle["timestamp"])
    resources = [entry["resource"] for entry in bundle["entry"]]
    assert [entry["fullUrl"] for entry in bundle["entry"]] == [f"urn:uuid:{r['id']}" for r in resources]
    assert [r["id"] for r in resources] == [str(x.public_id) for x in (grant, contact, withdraw, news)]
    for resource in resources:
        # R4 Consent: status 1..1, scope 1..1, category 1..*; ppc-1 policy or policyRule; ppc-2/3 patient.
        assert resource["resourceType"] == "Consent"
        assert resource["status"] in {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"}
        assert len(resource["scope"]["coding"]) == 1
        assert resource["scope"]["coding"][0]["system"] == "http://terminology.hl7.org/CodeSystem/consentscope"
        assert resource["category"][0] == {
            "coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]
        }
        assert resource["patient"]["identifier"] == {
            "system": "urn:ietf:rfc:3986",
            "value": f"urn:uuid:{subject_pseudonym}",
        }
        assert resource["policy"] == [{"uri": f"{settings.ROOT_URL}/consent/policy/1/"}]
        assert FHIR_DATETIME.match(resource["dateTime"])
        assert FHIR_DATETIME.match(resource["provision"]["period"]["start"])
        assert resource["provision"]["purpose"][0]["system"] == "http://terminology.hl7.org/CodeSystem/v3-ActReason"
    summary = [
        (
            r["status"],
            r["scope"]["coding"][0]["code"],
            r["category"][1]["coding"][0]["code"],
            r["provision"]["type"],
            r["provision"]["purpose"][0]["code"],
            "end" in r["provision"]["period"],
        )
        for r in resources
    ]
    assert summary == [
        ("active", "research", RESEARCH, "permit", "HRESCH", False),
        ("inactive", "research", CONTACT, "permit", "CLINTRCH", True),  # replaced by the withdrawal
        ("rejected", "research", CONTACT, "deny", "CLINTRCH", False),
        ("inactive", "patient-privacy", NEWSLETTERS, "permit", "HMARKT", True),  # voided by v2's change
    ]
    assert resources[1]["provision"]["period"]["end"] == resources[2]["provision"]["period"]["start"]
    assert resources[3]["provision"]["period"]["end"] == v2.effective_at.astimezone(datetime.UTC).isoformat().replace(
        "+00:00", "Z"
    )
    assert resources[0]["category"][1]["coding"][0]["system"] == f"{settings.ROOT_URL}/consent/purposes"
    # Nothing identifying: no email, name or database id anywhere in the bundle.
    text = response.content.decode()
    assert member.email not in text and member.display_name not in text
    assert f'"id": {member.pk}' not in text and f'"{member.public_id}"' not in text


def test_fhir_bundle_is_the_callers_own(policy_v1, tenant_b):
    alice, bob = MemberFactory(), MemberFactory()
    services.record_consent(member=alice, purpose=RESEARCH, granted=True, channel="web")
    bundle = signed_in(TENANT_B["domain"], bob).get("/api/v1/consent/fhir/").json()
    assert bundle["entry"] == []
    assert ConsentSubject.objects.filter(member=bob).count() == 0


def test_openapi_schema_describes_the_consent_api(policy_v1):
    for host in (ROOT, TENANT_A["domain"]):
        response = host_client(host).get("/api/schema/", {"format": "json"})
        assert response.status_code == 200
        paths = response.json()["paths"]
        for path in ("purposes", "policy", "me", "decisions", "history", "fhir"):
            assert f"/api/v1/consent/{path}/" in paths, (host, path)
    root_paths = host_client(ROOT).get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "/api/v1/research/dataset/" in root_paths
