"""Real Celery worker, real broker (filesystem:// by default; Redis when CELERY_BROKER_URL says so).

Tasks sent inside a tenant context run in that tenant's schema on the worker.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from communities.models import Community, Visibility
from members.models import TenantMembership
from members.services import register_member
from tests.celery_worker import running_worker
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_B, host_client, signed_in

pytestmark = [pytest.mark.integration, pytest.mark.worker]


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def worker(committed_db, mail_dir: Path) -> Iterator[subprocess.Popen]:
    with running_worker(EMAIL_FILE_PATH=str(mail_dir)) as process:
        yield process


def wait_for_mail(mail_dir: Path, predicate, worker=None, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.log")):
            text = path.read_text()
            for message in text.split("-" * 79):
                if predicate(message):
                    return message
        time.sleep(0.2)
    worker_log = "".join(getattr(worker, "log", []))
    raise AssertionError(f"no matching email in {timeout} s; have: {list(mail_dir.iterdir())}\n{worker_log}")


@pytest.fixture
def circles(tenant_a, tenant_b) -> Iterator[None]:
    for tenant in (tenant_a, tenant_b):  # a killed earlier run may have left them behind
        with tenant_context(tenant):
            Community.objects.filter(slug__in=["alpha-worker-circle", "beta-worker-circle"]).delete()
    with tenant_context(tenant_a):
        Community.objects.create(name="Alpha worker circle", slug="alpha-worker-circle", visibility=Visibility.OPEN)
    with tenant_context(tenant_b):
        Community.objects.create(name="Beta worker circle", slug="beta-worker-circle", visibility=Visibility.OPEN)
    yield
    with tenant_context(tenant_a):
        Community.objects.filter(slug="alpha-worker-circle").delete()
    with tenant_context(tenant_b):
        Community.objects.filter(slug="beta-worker-circle").delete()


def test_worker_sends_verification_then_a_welcome_in_the_tenants_schema(worker, mail_dir, tenant_a, tenant_b, circles):
    email = f"worker-{uuid.uuid4().hex[:8]}@{COMMITTED_EMAIL_DOMAIN}"
    member = register_member(email=email, password=PASSWORD, display_name="Worker Test", signup_tenant=tenant_a)

    verification = wait_for_mail(mail_dir, lambda m: email in m and "Confirm your email" in m, worker)
    link = re.search(r"http://localhost(?::\d+)?(/accounts/verify/\S+)", verification).group(1)
    response = host_client("localhost").get(link)
    assert response.status_code == 302
    assert TenantMembership.objects.filter(member=member, tenant=tenant_a).exists()

    welcome_a = wait_for_mail(mail_dir, lambda m: email in m and "Welcome to Alpha" in m, worker)
    assert "Alpha worker circle" in welcome_a
    assert "Beta worker circle" not in welcome_a  # the worker ran in A's schema, not B's

    # Joining B through B's API: the task carries B's schema, so the email lists B's circles only.
    member.refresh_from_db()
    client_b = signed_in(TENANT_B["domain"], member)
    assert client_b.post("/api/v1/membership/").status_code == 201
    welcome_b = wait_for_mail(mail_dir, lambda m: email in m and "Welcome to Beta" in m, worker)
    assert "Beta worker circle" in welcome_b
    assert "Alpha worker circle" not in welcome_b
