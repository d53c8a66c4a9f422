"""The agreements API: staff see and act on every agreement; a partner admin reads their own only."""

from __future__ import annotations

import pytest

from members.models import MembershipRole
from partnerships import services
from partnerships.models import AgreementKind, AgreementStatus, PartnershipAgreement
from tenants.models import Tenant
from tests.conftest import host_client, signed_in
from tests.factories import MemberFactory, TenantMembershipFactory
from tests.partnerships.helpers import make_agreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreements(tenant_a, tenant_b) -> dict[str, PartnershipAgreement]:
    mine = make_agreement(kind=AgreementKind.HOSTED, slug="api-own")
    services.set_agreement_scope(actor=None, agreement=mine, tenant_ids=[tenant_a.pk])
    theirs = make_agreement(kind=AgreementKind.HOSTED, slug="api-theirs")
    services.set_agreement_scope(actor=None, agreement=theirs, tenant_ids=[tenant_b.pk])
    return {"mine": mine, "theirs": theirs}


@pytest.fixture
def partner_admin(tenant_a):
    member = MemberFactory()
    TenantMembershipFactory(member=member, tenant=tenant_a, role=MembershipRole.ADMIN)
    return member


def test_staff_see_every_agreement_with_its_audit(agreements):
    client = signed_in("localhost", MemberFactory(is_staff=True))
    response = client.get("/api/v1/partnerships/agreements/")
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()}
    assert {str(a.public_id) for a in agreements.values()} <= ids
    row = next(r for r in response.json() if r["id"] == str(agreements["mine"].public_id))
    assert row["tenants"] == ["alpha-alliance"]
    assert [e["action"] for e in row["events"]] == ["scope_changed", "created"]


def test_a_partner_admin_sees_only_their_own_agreement_without_staff_fields(agreements, partner_admin, tenant_a):
    # A research partner's agreement covering the same tenant is not the tenant's to read.
    research = make_agreement(kind=AgreementKind.RESEARCH)
    services.set_agreement_scope(actor=None, agreement=research, tenant_ids=[tenant_a.pk])
    client = signed_in("localhost", partner_admin)
    rows = client.get("/api/v1/partnerships/agreements/").json()
    assert [row["id"] for row in rows] == [str(agreements["mine"].public_id)]
    assert "events" not in rows[0] and "first_admin_email" not in rows[0]
    assert client.get(f"/api/v1/partnerships/agreements/{agreements['theirs'].public_id}/").status_code == 404
    assert client.get(f"/api/v1/partnerships/agreements/{agreements['mine'].public_id}/").status_code == 200
    assert client.get(f"/api/v1/partnerships/agreements/{research.public_id}/").status_code == 404
    page = signed_in("alpha-alliance.localhost", partner_admin).get("/manage/partnership/").content.decode()
    assert agreements["mine"].partner.name in page
    assert research.partner.name not in page


@pytest.mark.parametrize("role", [None, MembershipRole.MEMBER, MembershipRole.MODERATOR])
def test_everyone_else_sees_none(agreements, tenant_a, role):
    member = MemberFactory()
    if role:
        TenantMembershipFactory(member=member, tenant=tenant_a, role=role)
    client = signed_in("localhost", member)
    assert client.get("/api/v1/partnerships/agreements/").json() == []
    assert client.get(f"/api/v1/partnerships/agreements/{agreements['mine'].public_id}/").status_code == 404


def test_anonymous_callers_are_refused(agreements):
    assert host_client("localhost").get("/api/v1/partnerships/agreements/").status_code in (401, 403)


def test_only_staff_act_on_agreements(agreements, partner_admin):
    research = make_agreement(kind=AgreementKind.RESEARCH)
    services.set_agreement_scope(
        actor=None,
        agreement=research,
        tenant_ids=[agreements["mine"].tenants.get().pk],
        purpose_codes=["research-contact"],
    )
    url = f"/api/v1/partnerships/agreements/{research.public_id}/activate/"
    denied = signed_in("localhost", partner_admin).post(url, {"reason": "go"}, content_type="application/json")
    assert denied.status_code == 403
    research.refresh_from_db()
    assert research.status == AgreementStatus.DRAFT

    staff = signed_in("localhost", MemberFactory(is_staff=True))
    response = staff.post(url, {"reason": "Signed"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert response.json()["events"][0]["reason"] == "Signed"
    ended = staff.post(
        f"/api/v1/partnerships/agreements/{research.public_id}/end/", {"reason": ""}, content_type="application/json"
    )
    assert ended.status_code == 400
    assert ended.json()["details"] == {"reason": ["Required."]}
    research.refresh_from_db()
    assert research.status == AgreementStatus.ACTIVE


def test_a_partner_admin_publishes_through_the_api(tenant_a, tenant_b, partner_admin):
    Tenant.objects.filter(pk__in=[tenant_a.pk, tenant_b.pk]).update(listed=False)
    client = signed_in("localhost", partner_admin)
    own = client.post(
        "/api/v1/partnerships/tenants/alpha-alliance/publish/", {"listed": True}, content_type="application/json"
    )
    assert (own.status_code, own.json()) == (200, {"listed": True})
    other = client.post(
        "/api/v1/partnerships/tenants/beta-society/publish/", {"listed": True}, content_type="application/json"
    )
    assert other.status_code == 404
    assert list(
        Tenant.objects.filter(pk__in=[tenant_a.pk, tenant_b.pk]).order_by("slug").values_list("listed", flat=True)
    ) == [True, False]
    listed = host_client("localhost").get("/api/v1/partners/").json()
    assert [p["slug"] for p in listed] == ["alpha-alliance"]
