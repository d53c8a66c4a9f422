"""Activation runs on a real Celery worker (real broker, real commits): the tenant appears, the admin's
invitation is emailed, and the invitee becomes the tenant's admin through the emailed link."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_exists

from members.models import Member, MembershipRole, TenantInvitation, TenantMembership
from partnerships import services
from partnerships.models import AgreementStatus, Partner, PartnershipAgreement
from tenants.models import Tenant
from tests.celery_worker import running_worker, wait_until
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, signed_in
from tests.partnerships.helpers import make_agreement, make_partner
from tests.test_celery_worker import wait_for_mail

pytestmark = [pytest.mark.integration, pytest.mark.worker]

SLUG = "worker-provisioned"


def _clean_up() -> None:
    with connection.cursor() as cursor:
        # The audit table refuses deletes by design; tests bypass its trigger for their own rows only.
        cursor.execute("SET session_replication_role = replica")
        try:
            agreements = list(PartnershipAgreement.objects.filter(tenant_slug=SLUG).values_list("pk", flat=True))
            cursor.execute("DELETE FROM partnerships_agreementevent WHERE agreement_id = ANY(%s)", [agreements])
            cursor.execute("DELETE FROM partnerships_stripeevent WHERE agreement_id = ANY(%s)", [agreements])
            cursor.execute("DELETE FROM partnerships_invoice WHERE agreement_id = ANY(%s)", [agreements])
            PartnershipAgreement.tenants.through.objects.filter(partnershipagreement_id__in=agreements).delete()
            partners = list(PartnershipAgreement.objects.filter(pk__in=agreements).values_list("partner_id", flat=True))
            PartnershipAgreement.objects.filter(pk__in=agreements).delete()
            Partner.objects.filter(pk__in=partners).delete()
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SLUG.replace("-", "_")}" CASCADE')
    TenantInvitation.objects.filter(tenant__slug=SLUG).delete()
    Tenant.objects.filter(slug=SLUG).delete()


@pytest.fixture
def worker(committed_db, tmp_path: Path) -> Iterator[tuple[object, Path]]:
    _clean_up()
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    try:
        with running_worker(EMAIL_FILE_PATH=str(mail_dir)) as process:
            yield process, mail_dir
    finally:
        _clean_up()


def test_activation_provisions_on_the_worker_and_the_invitee_becomes_admin(worker):
    process, mail_dir = worker
    admin_email = f"first-admin-{uuid.uuid4().hex[:6]}@{COMMITTED_EMAIL_DOMAIN}"
    agreement = make_agreement(partner=make_partner(), slug=SLUG, first_admin_email=admin_email)
    services.activate_agreement(actor=None, agreement_id=agreement.pk)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.PROVISIONING  # committed; the worker takes it from here

    def finished() -> PartnershipAgreement | None:
        row = PartnershipAgreement.objects.get(pk=agreement.pk)
        return row if row.status != AgreementStatus.PROVISIONING else None

    done = wait_until(finished, process, timeout=90)
    assert done.status == AgreementStatus.ACTIVE, done.provisioning_error
    assert done.tenant.slug == SLUG
    assert schema_exists(SLUG.replace("-", "_"))
    assert "Invited" in done.provisioning_progress

    message = wait_for_mail(mail_dir, lambda m: admin_email in m and "/accounts/invitations/" in m, process)
    path = re.search(r"http://localhost(?::\d+)?(/accounts/invitations/\S+/)", message).group(1)
    member = Member.objects.create_user(admin_email, PASSWORD)
    client = signed_in("localhost", member)
    assert client.post(path).status_code == 302
    assert TenantMembership.objects.get(member=member, tenant=done.tenant).role == MembershipRole.ADMIN

    # Activating again, with the worker still running, makes no second tenant.
    services.activate_agreement(actor=None, agreement_id=agreement.pk)
    assert Tenant.objects.filter(slug=SLUG).count() == 1
