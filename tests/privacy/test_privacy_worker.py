"""A real Celery worker builds an export (progress visible, ZIP downloadable) and erases an account."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from communities import services as community_services
from communities.models import Community, Post, TopicKind, Visibility
from members.models import Member, TenantMembership
from privacy.models import DataExport, ErasureRequest, ErasureStatus
from tests.celery_worker import wait_until
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A, signed_in
from tests.factories import MemberFactory
from tests.test_celery_worker import mail_dir, worker  # noqa: F401 - fixtures

pytestmark = [pytest.mark.integration, pytest.mark.worker]


@pytest.fixture
def circle(tenant_a):
    slug = f"privacy-worker-{uuid.uuid4().hex[:6]}"
    with tenant_context(tenant_a):
        community = Community.objects.create(name="Privacy worker circle", slug=slug, visibility=Visibility.OPEN)
    yield community
    with tenant_context(tenant_a):
        Post.objects.filter(topic__community__slug=slug).delete()
        Community.objects.filter(slug=slug).delete()


def test_worker_exports_then_erases(worker, tenant_a, circle, settings):  # noqa: F811
    settings.KINDRED_POSTING_RATE = "1000/1m"
    member = MemberFactory(email=f"privacy-{uuid.uuid4().hex[:8]}@{COMMITTED_EMAIL_DOMAIN}", display_name="Wanda W")
    TenantMembership.objects.create(member=member, tenant=tenant_a, display_name="wanda_here")
    with tenant_context(tenant_a):
        community_services.join_community(member=member, tenant=tenant_a, community=circle)
        topic = community_services.create_topic(
            acting_member=member, tenant=tenant_a, community=circle, kind=TopicKind.UPDATE,
            title="Worker topic", body="Words the worker must find",
        )  # fmt: skip
    client = signed_in("localhost", member)
    created = client.post("/api/v1/privacy/exports/").json()
    seen_progress = set()

    def ready():
        data = client.get(f"/api/v1/privacy/exports/{created['id']}/").json()
        seen_progress.add(data["progress"])
        return data if data["status"] == "ready" else None

    data = wait_until(ready, worker)
    assert data["progress"] == 100
    assert max(seen_progress) == 100
    response = client.get(data["download_url"])
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        communities_json = archive.read(f"tenants/{TENANT_A['slug']}/communities.json").decode()
        assert "Words the worker must find" in communities_json
        assert "wanda_here" in archive.read("account.json").decode()
    export_file = Path(DataExport.objects.get(public_id=created["id"]).file_path)
    assert export_file.is_file()

    erasure = client.post(
        "/api/v1/privacy/erasure/", {"password": PASSWORD, "keep_posts": True}, content_type="application/json"
    )
    assert erasure.status_code == 202
    request = wait_until(
        lambda: (
            ErasureRequest.objects.filter(status=ErasureStatus.DONE, keep_posts=True, member=None)
            .order_by("-id")
            .first()
        ),
        worker,
    )
    assert request.schema_status["public"] == "done"
    assert request.schema_status[tenant_a.schema_name] == "done"
    assert not Member.objects.filter(pk=member.pk).exists()
    assert not export_file.exists()
    with tenant_context(tenant_a):
        post = Post.objects.get(topic_id=topic.pk, is_opening=True)
        assert (post.author_id, post.body_markdown) == (None, "Words the worker must find")
    ErasureRequest.objects.filter(pk=request.pk).delete()
