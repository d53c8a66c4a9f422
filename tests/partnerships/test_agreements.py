"""Agreements: the audit log, activation that provisions (idempotent, failures visible and retried),
the first admin's invitation, directory publishing, grace period, suspension and the end."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail, signing
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_tenants.utils import schema_exists

from core.errors import Conflict, InvalidInput, NotAllowed
from members.models import MembershipRole, RoleChange, TenantInvitation, TenantMembership
from members.services import INVITATION_SALT, accept_tenant_invitation, make_invitation_token
from partnerships import services
from partnerships.models import AgreementEvent, AgreementKind, AgreementStatus, Partner, PartnershipAgreement
from partnerships.selectors import sponsor_of
from tenants.models import Domain, Tenant
from tenants.selectors import partner_tenants
from tests.conftest import host_client, signed_in
from tests.factories import MemberFactory, TenantMembershipFactory
from tests.partnerships.helpers import make_agreement, make_partner

pytestmark = pytest.mark.django_db


def activate(agreement: PartnershipAgreement, capture, actor=None) -> PartnershipAgreement:
    with capture(execute=True):
        services.activate_agreement(actor=actor, agreement_id=agreement.pk, reason="Signed on 1 March")
    agreement.refresh_from_db()
    return agreement


def test_every_change_is_audited_and_the_audit_is_append_only():
    staff = MemberFactory(is_staff=True)
    agreement = make_agreement()
    services.update_agreement(actor=staff, agreement=agreement, fee_cents=99_00, reason="Discount agreed")
    events = list(AgreementEvent.objects.filter(agreement=agreement).order_by("pk"))
    assert [e.action for e in events] == ["created", "updated"]
    assert events[1].actor == staff
    assert events[1].reason == "Discount agreed"
    assert events[1].changes == {"fee_cents": {"from": "120000", "to": "9900"}}
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AgreementEvent.objects.filter(pk=events[0].pk).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AgreementEvent.objects.filter(pk=events[0].pk).delete()
    assert AgreementEvent.objects.get(pk=events[0].pk).reason == ""


def test_bad_terms_are_refused_field_by_field_and_nothing_is_written():
    partner = make_partner()
    before = PartnershipAgreement.objects.count()
    with pytest.raises(InvalidInput) as refused:
        services.create_agreement(
            actor=None, partner=partner, kind="hosted", starts_on=datetime.date(2026, 5, 1),
            ends_on=datetime.date(2026, 4, 1), fee_cents=-5, currency="dollars",
        )  # fmt: skip
    assert set(refused.value.details) == {"ends_on", "fee_cents", "currency"}
    with pytest.raises(InvalidInput) as sponsored:
        services.create_agreement(actor=None, partner=partner, kind="sponsored", starts_on=datetime.date(2026, 5, 1))
    assert set(sponsored.value.details) == {"beneficiary"}
    assert PartnershipAgreement.objects.count() == before


def test_terms_of_an_active_agreement_cannot_be_edited(django_capture_on_commit_callbacks):
    agreement = make_agreement(kind=AgreementKind.RESEARCH)
    services.set_agreement_scope(actor=None, agreement=agreement, purpose_codes=["research-data-sharing"])
    activate(agreement, django_capture_on_commit_callbacks)
    events = AgreementEvent.objects.filter(agreement=agreement).count()
    with pytest.raises(Conflict):
        services.update_agreement(actor=None, agreement=agreement, fee_cents=1)
    agreement.refresh_from_db()
    assert agreement.fee_cents == 120_000
    assert AgreementEvent.objects.filter(agreement=agreement).count() == events


def test_activating_a_hosted_agreement_provisions_its_tenant_and_invites_the_admin(
    django_capture_on_commit_callbacks,
):
    staff = MemberFactory(is_staff=True)
    agreement = make_agreement(slug="gamma-guild")
    agreement = activate(agreement, django_capture_on_commit_callbacks, actor=staff)

    assert agreement.status == AgreementStatus.ACTIVE
    tenant = agreement.tenant
    assert tenant is not None and tenant.slug == "gamma-guild"
    assert schema_exists("gamma_guild")
    assert tenant.primary_domain == "gamma-guild.localhost"
    assert tenant.theme.primary_colour == "#225577"
    assert list(agreement.tenants.all()) == [tenant]
    assert "clone template schema" in agreement.provisioning_progress
    assert agreement.provisioning_error == ""
    # Not in the public directory until its partner admin publishes it.
    assert tenant.listed is False
    assert tenant not in partner_tenants()
    assert [e.action for e in AgreementEvent.objects.filter(agreement=agreement).order_by("pk")] == [
        "created", "provisioning_requested", "activated",
    ]  # fmt: skip
    invitation = TenantInvitation.objects.get(tenant=tenant)
    assert (invitation.email, invitation.role) == (agreement.first_admin_email, MembershipRole.ADMIN)
    [email] = mail.outbox
    assert email.to == [agreement.first_admin_email]
    assert "/accounts/invitations/" in email.body


def test_activating_twice_makes_one_tenant(django_capture_on_commit_callbacks):
    agreement = make_agreement(slug="delta-dozen")
    with django_capture_on_commit_callbacks(execute=False) as first:
        services.activate_agreement(actor=None, agreement_id=agreement.pk)
    with django_capture_on_commit_callbacks(execute=False) as second:
        services.activate_agreement(actor=None, agreement_id=agreement.pk)  # a double click while it runs
    assert len(first) == 1 and len(second) == 0
    with django_capture_on_commit_callbacks(execute=True):
        first[0]()
        # The task delivered twice (acks_late after a lost worker) does nothing more either.
        services.run_provisioning(agreement_id=agreement.pk)
    activate(agreement, django_capture_on_commit_callbacks)  # and once more after it is active
    assert Tenant.objects.filter(slug="delta-dozen").count() == 1
    assert TenantInvitation.objects.filter(tenant__slug="delta-dozen").count() == 1
    assert AgreementEvent.objects.filter(agreement=agreement, action="activated").count() == 1


def test_a_failed_provisioning_is_visible_and_staff_retry_it(django_capture_on_commit_callbacks, tenant_a):
    staff = MemberFactory(is_staff=True)
    agreement = make_agreement(slug="epsilon-ensemble")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        services.activate_agreement(actor=staff, agreement_id=agreement.pk)
    # Between activation and the worker, someone routes the same host elsewhere.
    squatter = Domain.objects.create(domain="epsilon-ensemble.localhost", tenant=tenant_a, is_primary=False)
    with django_capture_on_commit_callbacks(execute=True):
        queued[0]()
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.PROVISIONING_FAILED
    assert "already routes to a tenant" in agreement.provisioning_error
    assert agreement.tenant is None
    assert not Tenant.objects.filter(slug="epsilon-ensemble").exists()
    assert not schema_exists("epsilon_ensemble")
    failure = AgreementEvent.objects.filter(agreement=agreement).first()
    assert (failure.action, failure.source) == ("provisioning_failed", "worker")

    # Staff see it in the admin.
    page = signed_in("localhost", MemberFactory(is_staff=True, is_superuser=True)).get(
        f"/admin/partnerships/partnershipagreement/{agreement.pk}/change/"
    )
    assert "Provisioning failed" in page.content.decode()
    assert "already routes to a tenant" in page.content.decode()

    # Retrying before the cause is fixed says why at once and changes nothing.
    with pytest.raises(InvalidInput):
        services.retry_provisioning(actor=staff, agreement_id=agreement.pk)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.PROVISIONING_FAILED

    squatter.delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_provisioning(actor=staff, agreement_id=agreement.pk, reason="Freed the domain")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    assert agreement.tenant.slug == "epsilon-ensemble"
    assert agreement.provisioning_error == ""


def test_activation_needs_a_first_admin_and_a_free_slug(tenant_a):
    agreement = make_agreement(slug=tenant_a.slug, first_admin_email="")
    with pytest.raises(InvalidInput) as refused:
        services.activate_agreement(actor=None, agreement_id=agreement.pk)
    assert set(refused.value.details) == {"first_admin_email", "tenant_slug"}
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT


def test_a_research_agreement_needs_consent_purposes_before_it_starts():
    agreement = make_agreement(kind=AgreementKind.RESEARCH)
    with pytest.raises(InvalidInput):
        services.activate_agreement(actor=None, agreement_id=agreement.pk)
    with pytest.raises(InvalidInput):  # and only research agreements name purposes
        services.set_agreement_scope(actor=None, agreement=make_agreement(), purpose_codes=["research-contact"])


# --- the first admin's invitation --------------------------------------------------------------


@pytest.fixture
def invitation(tenant_a) -> TenantInvitation:
    from members.services import invite_to_tenant

    return invite_to_tenant(tenant=tenant_a, email="First.Admin@Partner.test")


def test_the_invitee_becomes_tenant_admin_after_signing_in(invitation, tenant_a):
    member = MemberFactory(email="first.admin@partner.test")
    token = make_invitation_token(invitation=invitation)
    client = signed_in("localhost", member)
    page = client.get(f"/accounts/invitations/{token}/")
    assert "Accept the invitation" in page.content.decode()
    response = client.post(f"/accounts/invitations/{token}/")
    assert response.status_code == 302
    assert response["Location"] == "http://alpha-alliance.localhost/manage/"
    membership = TenantMembership.objects.get(member=member, tenant=tenant_a)
    assert membership.role == MembershipRole.ADMIN
    assert RoleChange.objects.filter(membership_member=member, tenant=tenant_a, new_role="admin").exists()
    # Single use: a second person (or a replay) gets nothing.
    other = MemberFactory(email="first.admin2@partner.test")
    with pytest.raises(InvalidInput, match="already used"):
        accept_tenant_invitation(token=token, member=other)


def test_an_anonymous_visitor_is_offered_sign_up_and_sign_in(invitation, root_client):
    token = make_invitation_token(invitation=invitation)
    body = root_client.get(f"/accounts/invitations/{token}/").content.decode()
    assert "/accounts/signup/?next=" in body and "/accounts/login/?next=" in body
    assert root_client.post(f"/accounts/invitations/{token}/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_someone_else_cannot_use_the_invitation(invitation, tenant_a):
    intruder = MemberFactory(email="intruder@example.test")
    token = make_invitation_token(invitation=invitation)
    with pytest.raises(NotAllowed):
        accept_tenant_invitation(token=token, member=intruder)
    assert not TenantMembership.objects.filter(member=intruder, tenant=tenant_a).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_expired_and_forged_invitations_are_refused(invitation, settings, root_client):
    member = MemberFactory(email="first.admin@partner.test")
    token = make_invitation_token(invitation=invitation)
    settings.TENANT_INVITATION_MAX_AGE = -1
    with pytest.raises(InvalidInput, match="expired"):
        accept_tenant_invitation(token=token, member=member)
    settings.TENANT_INVITATION_MAX_AGE = 3600
    forged = signing.dumps({"i": invitation.pk, "n": "guessed"}, salt=INVITATION_SALT)
    with pytest.raises(InvalidInput, match="not valid"):
        accept_tenant_invitation(token=forged, member=member)
    assert root_client.get(f"/accounts/invitations/{token}x/").status_code == 400
    assert not TenantMembership.objects.filter(member=member).exists()


def test_staff_provisioning_form_names_and_invites_the_first_admin():
    staff = MemberFactory(is_staff=True, is_superuser=True)
    client = signed_in("localhost", staff)
    form = {"name": "Zeta Circle", "slug": "zeta-circle", "domain": "zeta-circle.localhost", "tagline": ""}
    refused = client.post("/admin/tenants/tenant/add/", form)
    assert refused.status_code == 200 and "first_admin_email" in refused.content.decode()
    assert not Tenant.objects.filter(slug="zeta-circle").exists()
    response = client.post("/admin/tenants/tenant/add/", {**form, "first_admin_email": "zeta@partner.test"})
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="zeta-circle")
    assert TenantInvitation.objects.get(tenant=tenant).email == "zeta@partner.test"
    assert tenant.listed is False


# --- publishing in the directory ------------------------------------------------------------


def test_the_partner_admin_publishes_their_tenant(tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(listed=False)
    admin = MemberFactory()
    TenantMembershipFactory(member=admin, tenant=tenant_a, role=MembershipRole.ADMIN)
    moderator = MemberFactory()
    TenantMembershipFactory(member=moderator, tenant=tenant_a, role=MembershipRole.MODERATOR)

    denied = signed_in("alpha-alliance.localhost", moderator)
    assert denied.get("/manage/partnership/").status_code == 404
    assert denied.post("/manage/partnership/publish/", {"listed": "1"}).status_code == 404
    assert Tenant.objects.get(pk=tenant_a.pk).listed is False

    client = signed_in("alpha-alliance.localhost", admin)
    page = client.get("/manage/partnership/").content.decode()
    assert "Publish in the directory" in page
    assert client.post("/manage/partnership/publish/", {"listed": "1"}).status_code == 302
    assert Tenant.objects.get(pk=tenant_a.pk).listed is True
    assert tenant_a in partner_tenants()


# --- grace period, suspension, sponsorship, the end -------------------------------------------------


def _active_sponsorship(tenant) -> PartnershipAgreement:
    sponsor = make_partner(name="Acme Biotech", kind="industry")
    agreement = make_agreement(partner=sponsor, kind=AgreementKind.SPONSORED, beneficiary=make_partner())
    agreement.tenants.add(tenant)
    PartnershipAgreement.objects.filter(pk=agreement.pk).update(tenant=tenant)
    agreement.refresh_from_db()
    with pytest.raises(Conflict):  # nothing to provision: it is attached to an existing tenant below
        services.suspend_agreement(actor=None, agreement_id=agreement.pk, reason="x")
    services.activate_agreement(actor=None, agreement_id=agreement.pk)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    return agreement


def test_past_due_beyond_the_grace_period_is_suspended_by_beat(settings, tenant_a):
    settings.PARTNERSHIP_GRACE_DAYS = 14
    overdue = _active_sponsorship(tenant_a)
    recent = make_agreement(kind=AgreementKind.RESEARCH)
    services.set_agreement_scope(actor=None, agreement=recent, purpose_codes=["research-contact"])
    services.activate_agreement(actor=None, agreement_id=recent.pk)
    now = timezone.now()
    PartnershipAgreement.objects.filter(pk=overdue.pk).update(
        status=AgreementStatus.PAST_DUE, past_due_since=now - datetime.timedelta(days=15)
    )
    PartnershipAgreement.objects.filter(pk=recent.pk).update(
        status=AgreementStatus.PAST_DUE, past_due_since=now - datetime.timedelta(days=13)
    )
    assert services.suspend_overdue_agreements(now=now) == 1
    overdue.refresh_from_db()
    recent.refresh_from_db()
    assert (overdue.status, recent.status) == (AgreementStatus.SUSPENDED, AgreementStatus.PAST_DUE)
    event = AgreementEvent.objects.filter(agreement=overdue).first()
    assert (event.action, event.source) == ("suspended", "beat")


def test_a_sponsored_community_discloses_its_sponsor_until_suspended_and_members_keep_access(tenant_a):
    agreement = _active_sponsorship(tenant_a)
    member = MemberFactory()
    TenantMembershipFactory(member=member, tenant=tenant_a)
    client = signed_in("alpha-alliance.localhost", member)
    home = client.get("/").content.decode()
    assert "Sponsored by Acme Biotech" in home
    assert 'href="/sponsorship/"' in home
    disclosure = host_client("alpha-alliance.localhost").get("/sponsorship/").content.decode()
    assert "Acme Biotech" in disclosure and "can never see" in disclosure

    services.suspend_agreement(actor=None, agreement_id=agreement.pk, reason="Unpaid")
    assert sponsor_of(tenant=tenant_a) is None
    home = client.get("/")
    assert home.status_code == 200
    assert "Sponsored by" not in home.content.decode()
    assert TenantMembership.objects.filter(member=member, tenant=tenant_a).exists()


def test_an_ended_agreement_leaves_its_tenant_read_only_and_tells_members(tenant_a, django_capture_on_commit_callbacks):
    agreement = _active_sponsorship(tenant_a)
    member = MemberFactory()
    TenantMembershipFactory(member=member, tenant=tenant_a)
    with pytest.raises(InvalidInput):
        services.end_agreement(actor=None, agreement_id=agreement.pk, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        services.end_agreement(actor=None, agreement_id=agreement.pk, reason="Term over")
    agreement.refresh_from_db()
    tenant_a.refresh_from_db()
    assert agreement.status == AgreementStatus.ENDED
    assert tenant_a.read_only is True
    assert schema_exists(tenant_a.schema_name)
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert "download all your data" in mail.outbox[0].body
    page = signed_in("alpha-alliance.localhost", member).get("/").content.decode()
    assert "This community is read-only" in page
    assert "/accounts/privacy/" in page
    with pytest.raises(Conflict):
        services.activate_agreement(actor=None, agreement_id=agreement.pk)


def test_erasing_a_staff_account_keeps_the_audit_but_forgets_the_person(django_capture_on_commit_callbacks):
    from members.models import Member
    from privacy.services import collect_member_data, erase_member

    staff = MemberFactory(is_staff=True)
    agreement = make_agreement(first_admin_email="named.person@partner.test")
    services.update_agreement(actor=staff, agreement=agreement, fee_cents=5_00, reason="Discount")
    created = AgreementEvent.objects.filter(agreement=agreement, action="created").get()
    assert created.changes["first_admin_email"] == "(set)"  # an address never enters the append-only log
    exported = collect_member_data(member_id=staff.pk)
    assert "Discount" in str(exported)

    with django_capture_on_commit_callbacks(execute=True):
        erase_member(member=staff, keep_posts=False, requested_by=None)
    assert not Member.objects.filter(pk=staff.pk).exists()
    event = AgreementEvent.objects.get(agreement=agreement, action="updated")
    assert (event.actor, event.reason, event.changes) == (
        None,
        "Discount",
        {"fee_cents": {"from": "120000", "to": "500"}},
    )
    # Forgetting the actor is the only change the trigger lets through.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AgreementEvent.objects.filter(pk=event.pk).update(actor=None, reason="edited")


@pytest.mark.parametrize("name", ["Acme\u202eevil", "Ac\u200bme", "Acme\x07Bio"])
def test_a_partner_name_with_hidden_or_control_characters_is_refused_and_nothing_is_written(name):
    before = Partner.objects.count()
    with pytest.raises(InvalidInput) as refused:
        make_partner(name=name)
    assert "name" in refused.value.details
    assert Partner.objects.count() == before


def test_a_partner_name_has_its_whitespace_collapsed():
    assert make_partner(name="  Acme   Patients  ").name == "Acme Patients"
