"""Issue 14, points 2 and 3: the resource library's filters, who reviewed each resource and when, and the
stale-review report (resources not reviewed in 12 months) for tenant admins, in Wagtail and the API."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from wagtail.rich_text import RichText

from access.services import sync_member_role_groups
from cms.models import ResourceIndexPage, ResourceType
from cms.selectors import stale_resources
from conditions.models import Condition
from members.models import MembershipRole
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import MemberFactory, ResourcePageFactory, TenantMembershipFactory

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]


def _member(tenant, role):
    member = MemberFactory()
    TenantMembershipFactory(member=member, tenant=tenant, role=role)
    with tenant_context(tenant):
        sync_member_role_groups(member_id=member.pk, role=role if role != MembershipRole.MEMBER else None)
    use_public_schema()
    return member


@pytest.fixture
def library(tenant_a, tenant_b):
    today = timezone.localdate()
    conditions = list(Condition.objects.order_by("pk")[:2])
    with tenant_context(tenant_a):
        index = ResourceIndexPage.objects.get()
        fresh = ResourcePageFactory(
            parent=index,
            title="Fresh video",
            resource_type=ResourceType.VIDEO,
            reviewed_at=today - datetime.timedelta(days=30),
            conditions=[conditions[0]],
            topics=["fatigue"],
        )
        old = ResourcePageFactory(
            parent=index,
            title="Old article",
            reviewed_at=today - datetime.timedelta(days=400),
            reviewed_by="Dr Old",
            conditions=[conditions[1]],
            topics=["work"],
        )
        never = ResourcePageFactory(
            parent=index,
            title="Never reviewed helpline",
            resource_type=ResourceType.SUPPORT_SERVICE,
            reviewed_at=None,
            reviewed_by="",
            topics=["fatigue"],
        )
        boundary = ResourcePageFactory(
            parent=index, title="Exactly a year", reviewed_at=today - datetime.timedelta(days=365)
        )
    with tenant_context(tenant_b):
        ResourcePageFactory(title="Beta stale", reviewed_at=today - datetime.timedelta(days=900))
        urls = {page.title: page.url for page in (fresh, old, never, boundary, index)}
    use_public_schema()
    fields = {"urls": urls, "fresh": fresh, "old": old, "never": never, "boundary": boundary, "index": index}
    return type("Library", (), {**fields, "conditions": conditions})


def test_stale_report_lists_resources_not_reviewed_in_twelve_months(library, tenant_a):
    with tenant_context(tenant_a):
        assert [page.title for page in stale_resources()] == ["Old article", "Never reviewed helpline"]
    use_public_schema()


def test_stale_report_api_is_for_tenant_admins_only(library, tenant_a, tenant_b):
    url = "/api/v1/resources/stale/"
    admin = _member(tenant_a, MembershipRole.ADMIN)
    response = signed_in(HOST, admin).get(url)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["title"], r["reviewed_by"], r["review_is_stale"]) for r in rows] == [
        ("Old article", "Dr Old", True),
        ("Never reviewed helpline", "", True),
    ]
    assert signed_in(HOST, _member(tenant_a, MembershipRole.MEMBER)).get(url).status_code == 403
    assert host_client(HOST).get(url).status_code == 401
    # Another partner's admin sees its own stale pages only.
    admin_b = _member(tenant_b, MembershipRole.ADMIN)
    other = signed_in(TENANT_B["domain"], admin_b).get(url).json()["results"]
    assert [r["title"] for r in other] == ["Beta stale"]


def test_stale_report_in_the_wagtail_admin_with_csv(library, tenant_a):
    client = signed_in(HOST, _member(tenant_a, MembershipRole.ADMIN))
    page = client.get("/admin/kindred/stale-resources/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Old article" in text and "Never reviewed helpline" in text and "Fresh video" not in text
    csv = client.get("/admin/kindred/stale-resources/?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0] == "title,url,reviewed_at,reviewed_by,live" and len(lines) == 3
    moderator = signed_in(HOST, _member(tenant_a, MembershipRole.MODERATOR))
    assert moderator.get("/admin/kindred/stale-resources/").status_code in (302, 403)


def test_each_resource_shows_who_reviewed_it_and_when(library):
    text = host_client(HOST).get(library.urls["Old article"]).content.decode()
    assert "Dr Old" in text and "more than a year old" in text
    text = host_client(HOST).get(library.urls["Never reviewed helpline"]).content.decode()
    assert "Not reviewed yet" in text


def test_library_filters_by_condition_topic_and_type(library):
    client = host_client(HOST)

    def titles(**params):
        return [r["title"] for r in client.get("/api/v1/resources/", params).json()["results"]]

    assert titles(type="video") == ["Fresh video"]
    assert titles(type="support") == ["Never reviewed helpline"]
    assert titles(topic="fatigue") == ["Fresh video", "Never reviewed helpline"]
    assert titles(condition=library.conditions[1].slug) == ["Old article"]
    assert titles(topic="fatigue", type="video") == ["Fresh video"]
    assert client.get("/api/v1/resources/", {"type": "podcast"}).status_code == 400
    facets = client.get("/api/v1/resources/filters/").json()
    assert sorted(slug for slug, _name in facets["topics"]) == ["fatigue", "work"]
    assert [value for value, _label in facets["types"]] == ["article", "video", "link", "document", "support"]
    page = client.get(library.urls[library.index.title], {"topic": "work"})
    text = page.content.decode()
    assert page.status_code == 200 and "Old article" in text and "Fresh video" not in text


def test_community_search_resources_tab_finds_words_in_the_body(tenant_a):
    with tenant_context(tenant_a):
        ResourcePageFactory(
            title="Pacing guide", summary="", body=[("paragraph", RichText("<p>Spoon theory helps.</p>"))]
        )
    use_public_schema()
    response = host_client(HOST).get("/search/", {"q": "spoon", "tab": "resources"})
    assert response.status_code == 200
    assert "Pacing guide" in response.content.decode()


def test_a_resource_body_given_as_html_becomes_a_paragraph_block(tenant_a):
    """Code written for the body's rich-text days (``ResourcePage(body="<p>…</p>")``) keeps working."""
    with tenant_context(tenant_a):
        page = ResourcePageFactory(title="Plain HTML body", body="<p>Hello <b>there</b></p>")
        assert [block.block_type for block in page.body] == ["paragraph"]
        assert "<b>there</b>" in str(page.body)
        url = page.url
    use_public_schema()
    assert "<b>there</b>" in host_client(HOST).get(url).content.decode()
