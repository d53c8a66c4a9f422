"""'Talk about this trial': one topic per trial per community, in the tenant's schema only."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from communities.models import Topic, Visibility
from communities.services import open_trial_discussion
from conditions.models import Condition
from core.errors import DomainError
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import CommunityMembershipFactory, MemberFactory, TenantMembershipFactory, community_world
from tests.trials.conftest import OWN_FIXTURES
from trials.services import import_paths
from trials.sync import covered_condition_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def worlds(tenant_a, tenant_b, settings):
    settings.KINDRED_POSTING_RATE = "1000/1m"
    import_paths(paths=[OWN_FIXTURES])
    with tenant_context(tenant_a):
        a = community_world(tenant=tenant_a, name="MS circle", slug="ms-circle")
        a.community.conditions.set([Condition.objects.get(mesh_id="D009103")])
    with tenant_context(tenant_b):
        b = community_world(tenant=tenant_b, name="Beta MS", slug="beta-ms", visibility=Visibility.OPEN)
        b.community.conditions.set([Condition.objects.get(mesh_id="D001943")])
    return a, b


def test_open_finds_or_creates_one_topic_per_trial_per_community(worlds, tenant_a):
    a, _ = worlds
    with tenant_context(tenant_a):
        topic, created = open_trial_discussion(acting_member=a.alice, community=a.community, nct_id="nct90000001")
        assert created is True
        assert (topic.trial_nct_id, topic.title, topic.author_id) == (
            "NCT90000001", "NCT90000001: Remyelination Drug in Relapsing MS", a.alice.pk,
        )  # fmt: skip
        opening = topic.posts.get()
        assert "https://clinicaltrials.gov/study/NCT90000001" in opening.body_html
        again, created_again = open_trial_discussion(acting_member=a.bob, community=a.community, nct_id="NCT90000001")
        assert (again.pk, created_again) == (topic.pk, False)
        assert Topic.objects.filter(trial_nct_id="NCT90000001").count() == 1


def test_denied_opens_change_nothing(worlds, tenant_a):
    a, _ = worlds
    with tenant_context(tenant_a):
        for member in (a.carol, a.stranger):  # not in this members-only community
            with pytest.raises(DomainError):
                open_trial_discussion(acting_member=member, community=a.community, nct_id="NCT90000001")
        with pytest.raises(DomainError, match="No such trial"):
            open_trial_discussion(acting_member=a.alice, community=a.community, nct_id="NCT99999999")
        assert not Topic.objects.exists()


def test_discussions_never_cross_tenants(worlds, tenant_a, tenant_b):
    a, b = worlds
    with tenant_context(tenant_a):
        topic_a, _ = open_trial_discussion(acting_member=a.alice, community=a.community, nct_id="NCT90000001")
    with tenant_context(tenant_b):
        topic_b, _ = open_trial_discussion(acting_member=b.alice, community=b.community, nct_id="NCT90000001")

    page_a = signed_in(TENANT_A["domain"], a.alice).get("/trials/NCT90000001/").content.decode()
    assert f'href="/t/{topic_a.pk}/"' in page_a and "MS circle" in page_a
    assert "Beta MS" not in page_a
    page_b = host_client(TENANT_B["domain"]).get("/trials/NCT90000001/").content.decode()
    assert f'href="/t/{topic_b.pk}/"' in page_b and "MS circle" not in page_b
    root = host_client("localhost").get("/trials/NCT90000001/").content.decode()
    assert "Discussions in" not in root

    api_a = signed_in(TENANT_A["domain"], a.alice).get("/api/v1/trials/NCT90000001/discussions/").json()
    assert [(t["id"], t["community"]) for t in api_a] == [(topic_a.pk, "ms-circle")]
    # Members-only: someone outside the community sees no discussion (and learns nothing of it).
    assert signed_in(TENANT_A["domain"], a.carol).get("/api/v1/trials/NCT90000001/discussions/").json() == []
    api_b = host_client(TENANT_B["domain"]).get("/api/v1/trials/NCT90000001/discussions/").json()
    assert [(t["id"], t["community"]) for t in api_b] == [(topic_b.pk, "beta-ms")]
    # Tenant B's member cannot open a topic in tenant A's community through B's host.
    response = signed_in(TENANT_B["domain"], b.alice).post(
        "/api/v1/trials/NCT90000001/discussions/", {"community": "ms-circle"}, content_type="application/json"
    )
    assert response.status_code == 404
    with tenant_context(tenant_b):
        assert Topic.objects.count() == 1


def test_open_through_the_api_and_the_page(worlds, tenant_a):
    a, _ = worlds
    client = signed_in(TENANT_A["domain"], a.bob)
    first = client.post(
        "/api/v1/trials/NCT90000004/discussions/", {"community": "ms-circle"}, content_type="application/json"
    )
    assert first.status_code == 201
    second = client.post(
        "/api/v1/trials/NCT90000004/discussions/", {"community": "ms-circle"}, content_type="application/json"
    )
    assert (second.status_code, second.json()["id"]) == (200, first.json()["id"])
    page = client.post("/trials/NCT90000004/discuss/", {"community": "ms-circle"})
    assert page.status_code == 302 and page["Location"] == f"/t/{first.json()['id']}/"
    outsider = signed_in(TENANT_A["domain"], a.carol).post(
        "/api/v1/trials/NCT90000001/discussions/", {"community": "ms-circle"}, content_type="application/json"
    )
    assert outsider.status_code == 404  # a members-only community looks missing to outsiders
    with tenant_context(tenant_a):
        assert list(Topic.objects.values_list("trial_nct_id", flat=True)) == ["NCT90000004"]


def test_community_page_lists_its_recruiting_trials(worlds, tenant_a):
    a, _ = worlds
    html = signed_in(TENANT_A["domain"], a.alice).get("/c/ms-circle/").content.decode()
    assert "Recruiting trials" in html
    assert "Remyelination Drug in Relapsing MS" in html
    assert "Étude sur la sclérose en plaques" in html
    assert "Exercise After Breast Cancer Surgery" not in html


def test_sync_asks_for_the_conditions_communities_cover(worlds):
    ids = covered_condition_ids()
    assert {Condition.objects.get(mesh_id="D009103").pk, Condition.objects.get(mesh_id="D001943").pk} <= ids


def test_a_new_member_of_a_community_can_open_after_joining(worlds, tenant_a):
    a, _ = worlds
    newcomer = MemberFactory()
    with tenant_context(tenant_a):
        TenantMembershipFactory(member=newcomer, tenant=tenant_a)
        with pytest.raises(DomainError):
            open_trial_discussion(acting_member=newcomer, community=a.community, nct_id="NCT90000001")
        CommunityMembershipFactory(community=a.community, member=newcomer)
        topic, created = open_trial_discussion(acting_member=newcomer, community=a.community, nct_id="NCT90000001")
        assert created and topic.author_id == newcomer.pk
