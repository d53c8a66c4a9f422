"""Study invitations: submitted by a research partner with an active agreement, approved by staff AND
the tenant's admins, sent only to members who consent to study contact and match its conditions."""

from __future__ import annotations

from typing import cast

import pytest
from django.core import mail

from conditions.models import Condition
from consent.services import record_consent
from core.errors import Conflict, InvalidInput, NotAllowed
from members.models import Member, MembershipRole
from partnerships import services
from partnerships.models import AgreementKind, StudyInvitation, StudyStatus
from tests.conftest import host_client, signed_in
from tests.consent.conftest import CONTACT, RESEARCH, policy_v1, purposes  # noqa: F401 - fixtures
from tests.factories import MemberFactory, TenantMembershipFactory
from tests.partnerships.helpers import make_agreement, make_partner

pytestmark = pytest.mark.django_db

STUDY = {
    "title": "Sleep and lupus flares",
    "summary": "A six-week diary study.",
    "eligibility": "Adults with lupus",
    "contact": "sleep-study@university.test",
    "ethics_approval_ref": "IRB-2026-041",
}


@pytest.fixture
def setting(policy_v1, tenant_a, tenant_b):  # noqa: F811
    lupus, other = Condition.objects.order_by("pk")[:2]
    university = make_partner(name="North University", kind="research")
    researcher = MemberFactory()
    university.representatives.add(researcher)
    agreement = make_agreement(partner=university, kind=AgreementKind.RESEARCH)
    services.set_agreement_scope(
        actor=None, agreement=agreement, tenant_ids=[tenant_a.pk], condition_ids=[lupus.pk, other.pk],
        purpose_codes=[CONTACT],
    )  # fmt: skip
    agreement = services.activate_agreement(actor=None, agreement_id=agreement.pk)
    tenant_admin = MemberFactory()
    TenantMembershipFactory(member=tenant_admin, tenant=tenant_a, role=MembershipRole.ADMIN)

    def person(*, tenant=tenant_a, conditions=(lupus,), contact: bool | None = True, research=False):
        member = cast(Member, MemberFactory())
        TenantMembershipFactory(member=member, tenant=tenant)
        member.conditions.set(conditions)
        if contact is not None:
            record_consent(member=member, purpose=CONTACT, granted=True, channel="web")
            if contact is False:
                record_consent(member=member, purpose=CONTACT, granted=False, channel="web")
        if research:
            record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
        return member

    people = {
        "match": person(),
        "other_condition": person(conditions=(other,)),
        "no_condition": person(conditions=()),
        "never_asked": person(contact=None, research=True),  # consents to data sharing, not to contact
        "withdrew": person(contact=False),
        "other_tenant": person(tenant=tenant_b),
    }
    return {"agreement": agreement, "researcher": researcher, "admin": tenant_admin, "people": people,
            "lupus": lupus, "tenant": tenant_a}  # fmt: skip


def _submit(setting, **overrides):
    fields = {"agreement": setting["agreement"], "tenant": setting["tenant"], "condition_ids": [setting["lupus"].pk],
              **STUDY, **overrides}  # fmt: skip
    return services.submit_study_invitation(submitted_by=setting["researcher"], **fields)


def test_sent_only_after_both_approvals_and_only_to_consenting_matching_members(
    setting, django_capture_on_commit_callbacks
):
    study = _submit(setting)
    staff = MemberFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_study_invitation(acting_member=staff, study_id=study.pk, approve=True)
    study.refresh_from_db()
    assert study.status == StudyStatus.SUBMITTED and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_study_invitation(acting_member=setting["admin"], study_id=study.pk, approve=True)
    study.refresh_from_db()
    assert (study.status, study.recipients) == (StudyStatus.SENT, 1)
    assert [m.to for m in mail.outbox] == [[setting["people"]["match"].email]]
    assert mail.outbox[0].subject == "Study invitation: Sleep and lupus flares"
    assert "STUDY INVITATION" in mail.outbox[0].body and "IRB-2026-041" in mail.outbox[0].body
    # Sending again (a redelivered task) reaches nobody twice.
    services.send_study_invitation(study_id=study.pk)
    assert len(mail.outbox) == 1
    # Shown on the community, labelled.
    page = host_client("alpha-alliance.localhost").get("/studies/").content.decode()
    assert "Study invitation" in page and "Sleep and lupus flares" in page
    assert "Sleep and lupus flares" not in host_client("beta-society.localhost").get("/studies/").content.decode()


def test_a_rejection_stops_it_and_nobody_is_contacted(setting, django_capture_on_commit_callbacks):
    study = _submit(setting)
    with pytest.raises(InvalidInput):
        services.decide_study_invitation(acting_member=setting["admin"], study_id=study.pk, approve=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_study_invitation(
            acting_member=setting["admin"], study_id=study.pk, approve=False, reason="Not relevant here"
        )
        with pytest.raises(Conflict):
            services.decide_study_invitation(
                acting_member=MemberFactory(is_staff=True), study_id=study.pk, approve=True
            )
    study.refresh_from_db()
    assert study.status == StudyStatus.REJECTED
    assert mail.outbox == []


def test_who_may_submit_and_decide(setting):
    with pytest.raises(NotAllowed):
        services.submit_study_invitation(
            submitted_by=setting["people"]["match"], agreement=setting["agreement"], tenant=setting["tenant"], **STUDY
        )
    study = _submit(setting)
    for outsider in (setting["people"]["match"], setting["researcher"]):
        with pytest.raises(NotAllowed):
            services.decide_study_invitation(acting_member=outsider, study_id=study.pk, approve=True)
    study.refresh_from_db()
    assert (study.staff_approved_by, study.tenant_approved_by) == (None, None)


def test_submissions_need_an_active_research_agreement_covering_contact_and_the_tenant(setting, tenant_b):
    with pytest.raises(InvalidInput):
        _submit(setting, tenant=tenant_b)
    with pytest.raises(InvalidInput) as missing:
        _submit(setting, ethics_approval_ref=" ")
    assert missing.value.details == {"ethics_approval_ref": ["Required."]}
    services.suspend_agreement(actor=None, agreement_id=setting["agreement"].pk, reason="Unpaid")
    with pytest.raises(Conflict):
        _submit(setting)
    assert StudyInvitation.objects.count() == 0


def test_the_api_submits_and_decides(setting):
    researcher = signed_in("localhost", setting["researcher"])
    body = {"agreement": str(setting["agreement"].public_id), "tenant": "alpha-alliance", **STUDY}
    created = researcher.post("/api/v1/partnerships/studies/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    study_id = created.json()["id"]
    assert created.json()["conditions"] == sorted(setting["agreement"].conditions.values_list("pk", flat=True))
    url = f"/api/v1/partnerships/studies/{study_id}/decide/"
    assert researcher.post(url, {"approve": True}, content_type="application/json").status_code == 403
    admin = signed_in("localhost", setting["admin"])
    decided = admin.post(url, {"approve": True}, content_type="application/json")
    assert decided.status_code == 200
    assert decided.json()["status"] == "submitted"
    stranger = signed_in("localhost", MemberFactory())
    assert stranger.get("/api/v1/partnerships/studies/").json() == []
    assert stranger.post(url, {"approve": True}, content_type="application/json").status_code == 404
