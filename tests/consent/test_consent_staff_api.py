"""Staff capabilities through the API too: add purposes, publish versions, record on a member's behalf."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from consent import selectors
from consent.models import ConsentPolicy, ConsentPurpose, ConsentRecord
from tests.conftest import TENANT_A, host_client, signed_in
from tests.consent.conftest import CONTACT, NEWSLETTERS, RESEARCH
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ROOT = settings.ROOT_DOMAIN
STAFF = "/api/v1/consent/staff"
JSON = "application/json"


@pytest.fixture
def staff():
    return MemberFactory(is_staff=True)


def test_only_staff_reach_the_staff_api_and_nothing_changes_otherwise(policy_v1):
    member = MemberFactory()
    payloads = {
        "purposes/": {"code": "x-purpose", "name": "X", "description": "X"},
        "policies/": {"text_markdown": "v2", "effective_at": timezone.now().isoformat(), "purposes": [RESEARCH]},
        "on-behalf/": {"member": str(member.public_id), "purpose": RESEARCH, "granted": True, "reason": "phone"},
    }
    for client, refused in ((host_client(ROOT), 401), (signed_in(ROOT, member), 403)):
        for path, payload in payloads.items():
            assert client.post(f"{STAFF}/{path}", payload, JSON).status_code == refused, path
    # Partner hosts do not serve the staff API at all.
    staff = MemberFactory(is_staff=True)
    assert signed_in(TENANT_A["domain"], staff).post(f"{STAFF}/purposes/", {}, JSON).status_code == 404
    assert not ConsentPurpose.objects.filter(code="x-purpose").exists()
    assert list(ConsentPolicy.objects.values_list("version", flat=True)) == [1]
    assert ConsentRecord.objects.count() == 0


def test_staff_add_a_purpose_and_publish_a_version_that_covers_it(policy_v1, staff):
    client = signed_in(ROOT, staff)
    added = client.post(
        f"{STAFF}/purposes/",
        {
            "code": "patient-registry",
            "name": "Join the registry",
            "description": "Be listed.",
            "fhir_scope": "research",
        },
        JSON,
    )
    assert added.status_code == 201, added.content
    assert added.json() == {"code": "patient-registry", "name": "Join the registry", "description": "Be listed."}
    duplicate = client.post(f"{STAFF}/purposes/", {"code": "patient-registry", "name": "X", "description": "Y"}, JSON)
    assert duplicate.status_code == 400 and duplicate.json()["details"] == {
        "code": ["A purpose with this code exists."]
    }
    member = MemberFactory()
    assert "patient-registry" not in selectors.consent_state_for(member=member)
    published = client.post(
        f"{STAFF}/policies/",
        {
            "text_markdown": "## v2",
            "effective_at": (timezone.now() - datetime.timedelta(seconds=1)).isoformat(),
            "change_summary": "Adds the registry.",
            "purposes": [RESEARCH, CONTACT, NEWSLETTERS, "patient-registry"],
            "material_changes": [RESEARCH],
        },
        JSON,
    )
    assert published.status_code == 201, published.content
    assert published.json()["version"] == 2
    assert ConsentPolicy.objects.get(version=2).published_by == staff
    assert selectors.consent_state_for(member=member)["patient-registry"].state == "not_asked"
    unknown = client.post(
        f"{STAFF}/policies/",
        {"text_markdown": "v3", "effective_at": timezone.now().isoformat(), "purposes": ["nope"]},
        JSON,
    )
    assert unknown.status_code == 400 and unknown.json()["details"] == {"purposes": ["Unknown purpose: nope."]}
    backdated = client.post(
        f"{STAFF}/policies/",
        {"text_markdown": "v3", "effective_at": "2001-01-01T00:00:00Z", "purposes": [RESEARCH]},
        JSON,
    )
    assert backdated.status_code == 400 and list(backdated.json()["details"]) == ["effective_at"]
    assert list(ConsentPolicy.objects.values_list("version", flat=True)) == [2, 1]


def test_staff_record_on_behalf_through_the_api_with_a_reason(policy_v1, staff, tenant_a):
    member = MemberFactory()
    client = signed_in(ROOT, staff)
    payload = {"member": str(member.public_id), "purpose": RESEARCH, "granted": True, "reason": ""}
    assert client.post(f"{STAFF}/on-behalf/", payload, JSON).status_code == 400
    payload["reason"] = "Signed paper form at the clinic"
    missing = client.post(f"{STAFF}/on-behalf/", {**payload, "member": str(uuid.uuid4())}, JSON)
    assert missing.status_code == 404
    bad_tenant = client.post(f"{STAFF}/on-behalf/", {**payload, "tenant": "nowhere"}, JSON)
    assert bad_tenant.status_code == 400
    assert ConsentRecord.objects.count() == 0
    done = client.post(f"{STAFF}/on-behalf/", {**payload, "tenant": TENANT_A["slug"]}, JSON)
    assert done.status_code == 201, done.content
    assert (done.json()["channel"], done.json()["tenant"]) == ("admin", tenant_a.schema_name)
    assert list(selectors.members_consenting_to(RESEARCH)) == [member]
    history = selectors.consent_history_for(member=member)
    assert [(h["on_behalf"], h["reason"]) for h in history] == [(True, "Signed paper form at the clinic")]
