"""Platform-staff admin: purposes, publishing through the service, a ledger nobody can edit,
and decisions recorded on a member's behalf only with a reason."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentPolicy, ConsentRecord
from tests.conftest import signed_in
from tests.consent.conftest import CONTACT, RESEARCH
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ROOT = settings.ROOT_DOMAIN


@pytest.fixture
def staff():
    return MemberFactory(is_staff=True, is_superuser=True)


def test_publishing_in_the_admin_goes_through_the_service(policy_v1, purposes, staff):
    client = signed_in(ROOT, staff)
    form = client.get("/admin/consent/consentpolicy/add/")
    assert form.status_code == 200
    effective = timezone.now().strftime("%Y-%m-%d")
    response = client.post(
        "/admin/consent/consentpolicy/add/",
        {
            "text_markdown": "## v2\n\n<script>x</script>Research now includes genomics.",
            "effective_at_0": effective,
            "effective_at_1": "00:00:00",
            "change_summary": "Research sharing now includes genomic data.",
            "covered": [purposes[RESEARCH].pk, purposes[CONTACT].pk],
            "material": [purposes[RESEARCH].pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    v2 = ConsentPolicy.objects.get(version=2)
    assert v2.published_by == staff
    assert v2.text_html.replace("\n", "") == "<h2>v2</h2><p>Research now includes genomics.</p>"
    assert {(pp.purpose.code, pp.material_change) for pp in v2.policy_purposes.all()} == {
        (RESEARCH, True),
        (CONTACT, False),
    }
    # A published version is read-only.
    change = client.post(f"/admin/consent/consentpolicy/{v2.pk}/change/", {"change_summary": "edited"})
    assert change.status_code == 403
    assert client.post(f"/admin/consent/consentpolicy/{v2.pk}/delete/", {"post": "yes"}).status_code == 403
    v2.refresh_from_db()
    assert v2.change_summary == "Research sharing now includes genomic data."


def test_admin_refuses_a_version_dated_before_the_last_one(policy_v1, purposes, staff):
    client = signed_in(ROOT, staff)
    response = client.post(
        "/admin/consent/consentpolicy/add/",
        {
            "text_markdown": "older",
            "effective_at_0": "2000-01-01",
            "effective_at_1": "00:00:00",
            "change_summary": "",
            "covered": [purposes[RESEARCH].pk],
        },
    )
    assert response.status_code == 200
    assert "Cannot take effect before version 1." in response.content.decode()
    assert list(ConsentPolicy.objects.values_list("version", flat=True)) == [1]


def test_the_ledger_is_read_only_in_the_admin(policy_v1, staff):
    member = MemberFactory()
    record = services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    client = signed_in(ROOT, staff)
    listing = client.get("/admin/consent/consentrecord/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert 'name="action"' not in html  # no bulk actions, no "delete selected"
    assert "/admin/consent/consentrecord/add/" not in html
    assert client.get("/admin/consent/consentrecord/add/").status_code == 403
    view = client.get(f"/admin/consent/consentrecord/{record.pk}/change/")
    assert view.status_code == 200 and 'type="submit"' not in view.content.decode().split('id="content-main"')[1]
    assert (
        client.post(f"/admin/consent/consentrecord/{record.pk}/change/", {"decision": "withdrawn"}).status_code == 403
    )
    assert client.post(f"/admin/consent/consentrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert [(r.pk, r.decision) for r in ConsentRecord.objects.all()] == [(record.pk, "granted")]


def test_recording_on_behalf_needs_a_reason_and_staff(policy_v1, purposes, staff, tenant_a):
    member = MemberFactory()
    url = "/admin/consent/consentrecord/record-on-behalf/"
    client = signed_in(ROOT, staff)
    data = {"email": member.email, "purpose": purposes[RESEARCH].pk, "decision": "grant", "reason": ""}
    refused = client.post(url, data)
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    unknown = client.post(url, {**data, "email": "nobody@example.test", "reason": "phone call"})
    assert "No member has this email address." in unknown.content.decode()
    assert ConsentRecord.objects.count() == 0
    # Not staff: the admin sends them to its login page.
    non_staff = signed_in(ROOT, MemberFactory())
    assert non_staff.post(url, {**data, "reason": "x"}).status_code == 302
    assert ConsentRecord.objects.count() == 0
    done = client.post(url, {**data, "reason": "Member asked by phone", "tenant": tenant_a.pk})
    assert done.status_code == 302
    record = ConsentRecord.objects.get()
    assert (record.channel, record.reason, record.tenant_schema) == (
        "admin",
        "Member asked by phone",
        tenant_a.schema_name,
    )
    assert record.actor_pseudonym == services.ensure_subject(member=staff).pseudonym
    assert list(selectors.members_consenting_to(RESEARCH)) == [member]
    # The member sees it in their history, with the reason.
    html = signed_in(ROOT, member).get("/accounts/consent/").content.decode()
    assert "(by staff: Member asked by phone)" in html


def test_staff_add_purposes_whose_code_then_stays_fixed(policy_v1, purposes, staff):
    from consent.models import ConsentPurpose

    client = signed_in(ROOT, staff)
    response = client.post(
        "/admin/consent/consentpurpose/add/",
        {
            "code": "patient-registry",
            "name": "Join the patient registry",
            "description": "Be listed in the partner's rare-disease registry.",
            "active": "on",
            "fhir_scope": "research",
            "act_reason": "HRESCH",
            "position": "40",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = ConsentPurpose.objects.get(code="patient-registry")
    client.post(
        f"/admin/consent/consentpurpose/{added.pk}/change/",
        {
            "code": "renamed",
            "name": "Join the registry",
            "description": "Same.",
            "active": "on",
            "fhir_scope": "research",
            "act_reason": "HRESCH",
            "position": "40",
        },
    )
    added.refresh_from_db()
    assert (added.code, added.name) == ("patient-registry", "Join the registry")
    assert client.post(f"/admin/consent/consentpurpose/{added.pk}/delete/", {"post": "yes"}).status_code == 403
    # A new purpose is offered only once a published version covers it: nobody is asked about it before.
    member_client = signed_in(ROOT, MemberFactory())
    assert "patient-registry" not in member_client.get("/accounts/signup/").content.decode()
    assert "Join the registry" not in member_client.get("/accounts/consent/").content.decode()
