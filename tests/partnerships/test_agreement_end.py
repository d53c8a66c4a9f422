"""When an agreement ends: the tenant stays, read-only; members can still leave and export; the partner
gets its pages and aggregate statistics, never member data."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from communities.models import Post, Topic
from partnerships import services
from partnerships.models import AgreementEvent, AgreementKind, PartnershipAgreement
from tests.conftest import signed_in
from tests.factories import PostFactory, TopicFactory, community_world
from tests.partnerships.helpers import make_agreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, name="Lupus circle", slug="lupus-circle")
        world.topic = TopicFactory(community=world.community, author=world.alice, title="Fatigue tips")
        for _ in range(6):
            PostFactory(topic=world.topic, author=world.alice, body_markdown="Private words of alice")
    return world


def _end(tenant, capture, settings, tmp_path) -> PartnershipAgreement:
    settings.KINDRED_EXPORTS_DIR = str(tmp_path)
    agreement = make_agreement(kind=AgreementKind.HOSTED)
    agreement.tenants.add(tenant)
    PartnershipAgreement.objects.filter(pk=agreement.pk).update(tenant=tenant)
    services.activate_agreement(actor=None, agreement_id=agreement.pk)
    with capture(execute=True):
        services.end_agreement(actor=None, agreement_id=agreement.pk, reason="Term over")
    agreement.refresh_from_db()
    return agreement


def test_writes_are_refused_but_reading_leaving_and_consent_still_work(
    world, tenant_a, django_capture_on_commit_callbacks, settings, tmp_path
):
    _end(tenant_a, django_capture_on_commit_callbacks, settings, tmp_path)
    alice = signed_in("alpha-alliance.localhost", world.alice)
    with tenant_context(tenant_a):
        posts_before = Post.objects.count()
    assert alice.get(f"/t/{world.topic.pk}/").status_code == 200
    refused = alice.post(f"/t/{world.topic.pk}/reply/", {"body": "Still here?"})
    assert refused.status_code == 403
    assert "read-only" in refused.content.decode()
    api = alice.post(f"/api/v1/topics/{world.topic.pk}/posts/", {"body": "via API"}, content_type="application/json")
    assert api.status_code == 403
    assert api.json()["code"] == "tenant_read_only"
    with tenant_context(tenant_a):
        assert Post.objects.count() == posts_before
    # Leaving is still possible (the request reaches the view, whatever it answers).
    assert alice.post("/c/lupus-circle/leave/").status_code != 403


def test_the_partner_archive_holds_pages_and_counts_but_no_member_data(
    world, tenant_a, django_capture_on_commit_callbacks, settings, tmp_path
):
    agreement = _end(tenant_a, django_capture_on_commit_callbacks, settings, tmp_path)
    assert agreement.archive_path
    path = Path(agreement.archive_path)
    assert path.parent == tmp_path / "partner-archives"
    assert AgreementEvent.objects.filter(agreement=agreement, action="archive_ready").count() == 1
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert names == {"README.txt", "alpha-alliance/pages.json", "alpha-alliance/statistics.json"}
        stats = json.loads(archive.read("alpha-alliance/statistics.json"))
        everything = "".join(archive.read(name).decode() for name in names)
    with tenant_context(tenant_a):
        month = f"{Topic.objects.get(pk=world.topic.pk).created_at:%Y-%m}"
    assert stats["communities"] == 1
    assert stats["topics_per_month"] == {month: "<5"}  # one topic: a small cell is never exact
    assert stats["posts_per_month"] == {month: 6}
    assert stats["members"] == 5
    for person in (world.alice, world.bob, world.admin):
        assert person.email not in everything
        assert person.display_name not in everything
    assert "Private words" not in everything
    assert "Fatigue tips" not in everything

    # Staff download it; nobody else can.
    url = f"/partnerships/archives/{agreement.public_id}/"
    assert signed_in("localhost", world.admin).get(url).status_code == 404
    staff = world.stranger
    staff.is_staff = True
    staff.save()
    response = signed_in("localhost", staff).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
