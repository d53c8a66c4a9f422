"""The web pages for study invitations: a tenant admin decides at /manage/studies/ (only on their own
tenant's invitations), a research partner's representative submits at /studies/submit/ on the root."""

from __future__ import annotations

import pytest

from members.models import MembershipRole
from partnerships import services
from partnerships.models import AgreementEvent, AgreementKind, StudyInvitation, StudyStatus
from tests.conftest import host_client, signed_in
from tests.consent.conftest import CONTACT, policy_v1, purposes  # noqa: F401 - fixtures
from tests.factories import MemberFactory, TenantMembershipFactory
from tests.partnerships.helpers import make_agreement, make_partner
from tests.partnerships.test_studies import STUDY, setting  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

ALPHA, BETA, ROOT = "alpha-alliance.localhost", "beta-society.localhost", "localhost"


def _submit(setting, **overrides):  # noqa: F811
    fields = {"agreement": setting["agreement"], "tenant": setting["tenant"], **STUDY, **overrides}
    return services.submit_study_invitation(submitted_by=setting["researcher"], **fields)


@pytest.fixture
def beta_study(setting, tenant_b):  # noqa: F811
    """Another research partner's invitation to tenant B, with tenant B's own admin."""
    lab = make_partner(name="South Lab", kind="research")
    lab_researcher = MemberFactory()
    lab.representatives.add(lab_researcher)
    agreement = make_agreement(partner=lab, kind=AgreementKind.RESEARCH)
    services.set_agreement_scope(actor=None, agreement=agreement, tenant_ids=[tenant_b.pk], purpose_codes=[CONTACT])
    agreement = services.activate_agreement(actor=None, agreement_id=agreement.pk)
    study = services.submit_study_invitation(
        submitted_by=lab_researcher, agreement=agreement, tenant=tenant_b,
        **{**STUDY, "title": "Beta-only heart study", "ethics_approval_ref": "BETA-IRB-9"},
    )  # fmt: skip
    admin = MemberFactory()
    TenantMembershipFactory(member=admin, tenant=tenant_b, role=MembershipRole.ADMIN)
    return {"study": study, "admin": admin, "researcher": lab_researcher}


def test_a_tenant_admin_sees_only_their_tenants_invitations_waiting_ones_first(setting, beta_study):  # noqa: F811
    decided = _submit(setting, title="Older decided study")
    services.decide_study_invitation(
        acting_member=MemberFactory(is_staff=True), study_id=decided.pk, approve=False, reason="Duplicate"
    )
    waiting = _submit(setting)
    admin_a = signed_in(ALPHA, setting["admin"])
    response = admin_a.get("/manage/studies/")
    assert response.status_code == 200
    page = response.content.decode()
    for shown in ("Sleep and lupus flares", "A six-week diary study.", "Adults with lupus",
                  "sleep-study@university.test", "IRB-2026-041", "North University", "Not yet approved"):  # fmt: skip
        assert shown in page, shown
    assert page.index(waiting.title) < page.index("Older decided study")
    assert page.count('value="approve"') == 1  # only the waiting one can be decided
    assert "Beta-only heart study" not in page and "BETA-IRB-9" not in page and "South Lab" not in page
    beta_page = signed_in(BETA, beta_study["admin"]).get("/manage/studies/").content.decode()
    assert "Beta-only heart study" in beta_page
    assert "Sleep and lupus flares" not in beta_page and "North University" not in beta_page
    # Tenant B's admin cannot reach tenant A's invitation through tenant B's host.
    admin_b = signed_in(BETA, beta_study["admin"])
    url = f"/manage/studies/{waiting.public_id}/decide/"
    assert admin_b.post(url, {"decision": "approve"}).status_code == 404
    assert admin_b.post(url, {"decision": "decline", "reason": "No"}).status_code == 404
    # Nor can tenant A's admin decide tenant B's invitation from tenant A's host, nor act on tenant B's host.
    assert (
        admin_a.post(f"/manage/studies/{beta_study['study'].public_id}/decide/", {"decision": "approve"}).status_code
        == 404
    )
    assert signed_in(BETA, setting["admin"]).get("/manage/studies/").status_code == 404
    waiting.refresh_from_db()
    beta_study["study"].refresh_from_db()
    assert (waiting.status, waiting.tenant_approved_by) == (StudyStatus.SUBMITTED, None)
    assert (beta_study["study"].status, beta_study["study"].tenant_approved_by) == (StudyStatus.SUBMITTED, None)


def test_approve_and_decline_call_the_decision_service_with_clear_messages(setting, django_capture_on_commit_callbacks):  # noqa: F811
    admin = signed_in(ALPHA, setting["admin"])
    approved, declined = _submit(setting), _submit(setting, title="Diet and fatigue")
    response = admin.post(f"/manage/studies/{approved.public_id}/decide/", {"decision": "approve"}, follow=True)
    assert "sent once Kindred&#x27;s staff approve it too" in response.content.decode()
    approved.refresh_from_db()
    assert (approved.status, approved.tenant_approved_by) == (StudyStatus.SUBMITTED, setting["admin"])
    assert "You approved; waiting for Kindred" in response.content.decode()
    assert AgreementEvent.objects.filter(action="study_approved", actor=setting["admin"]).count() == 1

    url = f"/manage/studies/{declined.public_id}/decide/"
    response = admin.post(url, {"decision": "decline", "reason": "  "}, follow=True)
    assert "Say why you reject it" in response.content.decode()
    declined.refresh_from_db()
    assert declined.status == StudyStatus.SUBMITTED
    assert admin.post(url, {"decision": "maybe"}, follow=True).status_code == 200
    declined.refresh_from_db()
    assert declined.status == StudyStatus.SUBMITTED
    response = admin.post(url, {"decision": "decline", "reason": "Not for our members"}, follow=True)
    assert "Declined “Diet and fatigue”" in response.content.decode()
    declined.refresh_from_db()
    assert declined.status == StudyStatus.REJECTED
    assert AgreementEvent.objects.get(action="study_rejected").reason == "Not for our members"
    again = admin.post(url, {"decision": "approve"}, follow=True).content.decode()
    assert "already rejected" in again
    declined.refresh_from_db()
    assert declined.status == StudyStatus.REJECTED
    # With staff's approval added, the page's approval sends it.
    third = _submit(setting, title="Third study")
    services.decide_study_invitation(acting_member=MemberFactory(is_staff=True), study_id=third.pk, approve=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/manage/studies/{third.public_id}/decide/", {"decision": "approve"}, follow=True)
    assert "It is being sent" in response.content.decode()
    third.refresh_from_db()
    assert third.status == StudyStatus.SENT


def test_moderators_members_and_strangers_get_nothing(setting, tenant_a):  # noqa: F811
    study = _submit(setting)
    url = f"/manage/studies/{study.public_id}/decide/"
    for role in (MembershipRole.MODERATOR, MembershipRole.MEMBER):
        person = MemberFactory()
        TenantMembershipFactory(member=person, tenant=tenant_a, role=role)
        client = signed_in(ALPHA, person)
        assert client.get("/manage/studies/").status_code == 404
        assert client.post(url, {"decision": "approve"}).status_code == 404
        if role == MembershipRole.MODERATOR:
            assert "/manage/studies/" not in client.get("/manage/").content.decode()
    # The research partner's own representative decides nothing here either.
    assert signed_in(ALPHA, setting["researcher"]).post(url, {"decision": "approve"}).status_code == 404
    anonymous = host_client(ALPHA)
    assert anonymous.get("/manage/studies/").status_code == 302
    assert anonymous.post(url, {"decision": "approve"}).status_code in (302, 403)
    study.refresh_from_db()
    assert (study.status, study.tenant_approved_by, study.staff_approved_by) == (StudyStatus.SUBMITTED, None, None)
    # The admin's dashboard links the page.
    assert 'href="/manage/studies/"' in signed_in(ALPHA, setting["admin"]).get("/manage/").content.decode()


def _form(setting, **overrides):  # noqa: F811
    return {"agreement": setting["agreement"].pk, "tenant": setting["tenant"].pk,
            "conditions": [setting["lupus"].pk], **STUDY, **overrides}  # fmt: skip


def test_a_representative_submits_on_the_root_and_follows_the_review(setting, beta_study, tenant_b):  # noqa: F811
    client = signed_in(ROOT, setting["researcher"])
    page = client.get("/studies/submit/").content.decode()
    assert "North University" in page and setting["tenant"].name in page
    assert tenant_b.name not in page  # the form never lists communities the agreement does not cover
    assert 'href="/studies/submit/"' in client.get("/accounts/profile/").content.decode()
    response = client.post("/studies/submit/", _form(setting), follow=True)
    page = response.content.decode()
    assert "Submitted “Sleep and lupus flares”" in page
    study = StudyInvitation.objects.get(submitted_by=setting["researcher"])
    assert list(study.conditions.all()) == [setting["lupus"]] and study.tenant == setting["tenant"]
    assert "Awaiting approval" in page and "Kindred staff: pending" in page
    assert "Beta-only heart study" not in page  # another partner's submissions stay theirs
    services.decide_study_invitation(
        acting_member=setting["admin"], study_id=study.pk, approve=False, reason="Our members are children"
    )
    page = client.get("/studies/submit/").content.decode()
    assert "Rejected" in page and "Reason: Our members are children" in page

    # The service's field errors are shown, and nothing is saved.
    response = client.post("/studies/submit/", _form(setting, ethics_approval_ref=" ", title=""))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Required.") == 2 and "Check the study invitation." in page
    assert 'value="sleep-study@university.test"' in page  # what was typed is kept
    assert client.post("/studies/submit/", _form(setting, tenant=tenant_b.pk)).status_code == 200
    assert client.post("/studies/submit/", _form(setting, title="x" * 201)).status_code == 200
    assert StudyInvitation.objects.filter(submitted_by=setting["researcher"]).count() == 1

    # An agreement that is not active: the service's message is shown.
    services.suspend_agreement(actor=None, agreement_id=setting["agreement"].pk, reason="Unpaid")
    page = client.post("/studies/submit/", _form(setting, title="After suspension")).content.decode()
    assert "Study invitations need an active research agreement." in page
    assert not StudyInvitation.objects.filter(title="After suspension").exists()


def test_only_representatives_submit_through_the_page(setting, beta_study):  # noqa: F811
    member = MemberFactory()
    client = signed_in(ROOT, member)
    page = client.get("/studies/submit/").content.decode()
    assert "Only the representatives of a research partner" in page and "North University" not in page
    assert client.post("/studies/submit/", _form(setting)).status_code == 200
    # Another partner's representative cannot use North University's agreement either.
    other = signed_in(ROOT, beta_study["researcher"])
    assert other.post("/studies/submit/", _form(setting, title="Borrowed")).status_code == 200
    assert not StudyInvitation.objects.filter(agreement=setting["agreement"]).exists()
    assert host_client(ROOT).get("/studies/submit/").status_code == 302
