"""A research export runs on a real Celery worker (real broker, real commits, acks_late task): the files
appear encrypted in the worker's folder, the manifest's checksums hold, and the member who never
consented is counted as excluded, not released."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from members.models import Member
from partnerships import services as partnership_services
from partnerships.models import AgreementKind, Partner, PartnershipAgreement
from research import services, vault
from research.models import AgreementKey, Dataset, ExportStatus, ResearchExport
from research.tasks import run_export_task
from tests.celery_worker import running_worker, wait_until
from tests.conftest import COMMITTED_EMAIL_DOMAIN
from tests.consent.conftest import RESEARCH
from tests.factories import MemberFactory, TenantMembershipFactory
from tests.partnerships.helpers import make_agreement, make_partner

pytestmark = [pytest.mark.integration, pytest.mark.worker]

PARTNER = "Worker Test University"


def _clean_up() -> None:
    agreements = list(PartnershipAgreement.objects.filter(partner__name=PARTNER).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        # The audit tables refuse deletes by design; tests bypass their triggers for their own rows only.
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute("DELETE FROM research_researchevent WHERE agreement_id = ANY(%s)", [agreements])
            ResearchExport.objects.filter(agreement_id__in=agreements).delete()
            AgreementKey.objects.filter(agreement_id__in=agreements).delete()
            cursor.execute("DELETE FROM partnerships_agreementevent WHERE agreement_id = ANY(%s)", [agreements])
            PartnershipAgreement.tenants.through.objects.filter(partnershipagreement_id__in=agreements).delete()
            PartnershipAgreement.consent_purposes.through.objects.filter(
                partnershipagreement_id__in=agreements
            ).delete()
            PartnershipAgreement.objects.filter(pk__in=agreements).delete()
            Partner.objects.filter(name=PARTNER).delete()
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def worker(committed_db, tmp_path: Path) -> Iterator[object]:
    _clean_up()
    try:
        with running_worker(KINDRED_RESEARCH_DIR=str(tmp_path / "research")) as process:
            yield process
    finally:
        _clean_up()


def test_the_export_task_runs_on_a_real_worker(worker, tenant_a, tmp_path):
    assert run_export_task.acks_late and run_export_task.reject_on_worker_lost
    tag = uuid.uuid4().hex[:6]
    staff = MemberFactory(email=f"research-staff-{tag}@{COMMITTED_EMAIL_DOMAIN}", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="run_research_exports"))
    staff = Member.objects.get(pk=staff.pk)
    never_asked = MemberFactory(email=f"never-{tag}@{COMMITTED_EMAIL_DOMAIN}", birth_year=1980)
    TenantMembershipFactory(member=never_asked, tenant=tenant_a)
    agreement = make_agreement(partner=make_partner(name=PARTNER, kind="research"), kind=AgreementKind.RESEARCH)
    partnership_services.set_agreement_scope(
        actor=None, agreement=agreement, tenant_ids=[tenant_a.pk], purpose_codes=[RESEARCH]
    )
    agreement = partnership_services.activate_agreement(actor=None, agreement_id=agreement.pk)

    export = services.define_export(
        actor=staff, agreement=agreement, tenant_ids=[tenant_a.pk], datasets=[Dataset.MEMBER_ATTRIBUTES], k=5
    )  # committed: on_commit sends the task to the worker

    def finished() -> ResearchExport | None:
        row = ResearchExport.objects.get(pk=export.pk)
        return row if row.status in (ExportStatus.READY, ExportStatus.FAILED) else None

    done = wait_until(finished, worker, timeout=90)
    assert done.status == ExportStatus.READY, done.error
    assert done.progress == 100
    files = {f.name: f for f in done.files.all()}
    assert set(files) == set(services.FILE_NAMES)
    for file in files.values():
        assert Path(file.path).parent == tmp_path / "research" / str(done.public_id)
    manifest = json.loads(vault.decrypt_file_bytes(Path(files["manifest.json"].path).read_bytes()))
    for name, entry in manifest["files"].items():
        plain = vault.decrypt_file_bytes(Path(files[name].path).read_bytes())
        assert hashlib.sha256(plain).hexdigest() == entry["sha256"] == files[name].sha256
    assert manifest["counts"]["members"]["included"] == 0
    assert manifest["counts"]["members"]["excluded"]["no_current_consent"] >= 1
    assert list(done.events.order_by("pk").values_list("action", "channel")) == [
        ("export_defined", "web"),
        ("export_started", "worker"),
        ("export_ready", "worker"),
    ]
