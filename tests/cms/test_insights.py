"""Issue 14, point 7: partner insights. Weekly counts in the tenant's admin and API, each chart as CSV;
every count from 1 to 10 reads "<11" so no small group of members is exposed."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from access.services import sync_member_role_groups
from cms.selectors import partner_insights, small_cell
from communities.models import ContentStatus, TopicKind, Visibility
from members.models import MembershipRole
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, signed_in
from tests.factories import (
    MemberFactory,
    PostFactory,
    TagFactory,
    TenantMembershipFactory,
    TopicFactory,
    community_world,
)

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]


def test_small_cells():
    assert [small_cell(n) for n in (0, 1, 5, 10, 11, 250)] == [0, "<11", "<11", "<11", 11, 250]


@pytest.fixture
def busy(tenant_a):
    """This week in tenant A: 12 topics by 12 authors (each with its opening post), 3 replies, 1 unanswered
    question, a tag on 12 topics; a held topic that must not count."""
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, visibility=Visibility.OPEN)
        tag = TagFactory(community=world.community, name="Fatigue", slug="fatigue")
        authors = [MemberFactory() for _ in range(12)]
        for author in authors:
            TenantMembershipFactory(member=author, tenant=tenant_a)
            topic = TopicFactory(community=world.community, author=author, reply_count=1)
            topic.tags.add(tag)
            PostFactory(topic=topic, author=author, is_opening=True)
        for _ in range(3):
            PostFactory(topic=topic, author=world.alice)
        TopicFactory(community=world.community, author=world.bob, kind=TopicKind.QUESTION, reply_count=0)
        held = TopicFactory(community=world.community, author=world.bob, status=ContentStatus.HELD)
        PostFactory(topic=held, author=world.bob, is_opening=True, status=ContentStatus.HELD)
    use_public_schema()
    return world


def test_insights_counts_with_small_cells_suppressed(busy, tenant_a):
    with tenant_context(tenant_a):
        data = partner_insights(tenant=tenant_a)
    use_public_schema()
    assert len(data["weeks"]) == 12
    this_week = {key: data[key][-1]["count"] for key in ("members_joined", "active_members", "topics", "replies")}
    # 12 authors + 5 people of the world joined this week; 13 people posted; 12 published openings; 3 replies.
    assert this_week == {"members_joined": 17, "active_members": 13, "topics": 12, "replies": "<11"}
    assert all(row["count"] == 0 for row in data["topics"][:-1])
    assert data["questions_without_replies"] == "<11"
    assert data["top_tags"] == [{"tag": "Fatigue", "community": busy.community.name, "count": 12}]
    assert data["moderation_load"][-1]["count"] == 0


def _admin(tenant):
    member = MemberFactory()
    TenantMembershipFactory(member=member, tenant=tenant, role=MembershipRole.ADMIN)
    with tenant_context(tenant):
        sync_member_role_groups(member_id=member.pk, role=MembershipRole.ADMIN)
    use_public_schema()
    return member


def test_insights_api_and_csv_for_admins_only(busy, tenant_a):
    client = signed_in(HOST, _admin(tenant_a))
    data = client.get("/api/v1/insights/").json()
    assert data["replies"][-1] == {"week": data["weeks"][-1], "count": "<11"}
    csv = client.get("/api/v1/insights/", {"series": "replies"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0] == "week_starting,replies" and lines[-1] == f"{data['weeks'][-1]},<11"
    assert client.get("/api/v1/insights/", {"series": "nope"}).status_code == 400
    assert signed_in(HOST, busy.alice).get("/api/v1/insights/").status_code == 403
    assert signed_in(HOST, busy.moderator).get("/api/v1/insights/").status_code == 403


def test_insights_dashboard_in_the_wagtail_admin(busy, tenant_a):
    client = signed_in(HOST, _admin(tenant_a))
    page = client.get("/admin/kindred/insights/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Members joined" in text and "&lt;11" in text and "Fatigue" in text
    assert "https://" not in text.split('class="nice-padding insights"')[1].split("</div>")[0]  # no external assets
    csv = client.get("/admin/kindred/insights/", {"series": "top_tags"})
    assert csv.content.decode().splitlines() == ["tag,community,topics", f"Fatigue,{busy.community.name},12"]


def test_insights_count_only_the_tenants_own_activity(busy, tenant_b):
    with tenant_context(tenant_b):
        data = partner_insights(tenant=tenant_b)
    use_public_schema()
    assert data["topics"][-1]["count"] == 0 and data["top_tags"] == []
