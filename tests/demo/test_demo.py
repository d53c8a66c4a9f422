"""The demo seed: four partners with communities, pages and logins, created once however often it runs."""

from __future__ import annotations

import dataclasses

import pytest
from django.utils.text import slugify
from django_tenants.utils import tenant_context

from access.models import MemberGroup
from communities.models import Community
from conditions.models import Condition
from core.errors import InvalidInput
from demo import services as demo
from demo.services import seed_demo
from members.models import Member, RoleChange, TenantMembership
from tenants.db import use_public_schema
from tenants.models import Domain, Tenant, TenantKind
from tests.conftest import host_client, signed_in

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password-for-tests"
PARTNER_SLUGS = ["breast-cancer-alliance", "multiple-sclerosis-society", "diabetes-foundation", "lupus-alliance"]
DEMO_CONDITIONS = {
    "D001943": "Breast Neoplasms",
    "D064726": "Triple Negative Breast Neoplasms",
    "D009103": "Multiple Sclerosis",
    "D003922": "Diabetes Mellitus, Type 1",
    "D003924": "Diabetes Mellitus, Type 2",
    "D008180": "Lupus Erythematosus, Systemic",
    "D008181": "Lupus Nephritis",
}
EXPECTED_COMMUNITIES = {
    "breast-cancer-alliance": {
        "newly-diagnosed": ("open", {"D001943"}),
        "triple-negative-circle": ("members", {"D064726", "D001943"}),
        "life-after-treatment": ("members", {"D001943"}),
    },
    "multiple-sclerosis-society": {
        "newly-diagnosed-with-ms": ("open", {"D009103"}),
        "fatigue-and-energy": ("members", {"D009103"}),
        "carers-and-partners": ("members", {"D009103"}),
    },
    "diabetes-foundation": {
        "type-1-together": ("open", {"D003922"}),
        "type-2-everyday": ("open", {"D003924"}),
        "parents-of-children-with-type-1": ("members", {"D003922"}),
    },
    "lupus-alliance": {
        "living-with-lupus": ("open", {"D008180"}),
        "lupus-nephritis-circle": ("members", {"D008181", "D008180"}),
    },
}


@pytest.fixture
def taxonomy() -> None:
    # The taxonomy data migration normally provides these; make the test independent of it.
    for mesh_id, name in DEMO_CONDITIONS.items():
        Condition.objects.get_or_create(mesh_id=mesh_id, defaults={"name": name, "slug": slugify(name)})


@pytest.fixture
def seeded(taxonomy: None) -> demo.DemoSummary:
    summary = seed_demo(password=PASSWORD)
    use_public_schema()
    return summary


def partner(slug: str) -> Tenant:
    return Tenant.objects.get(slug=slug)


def snapshot() -> dict[str, object]:
    """Every row count (and the rows that matter) the seed touches, in public and in each partner."""
    state: dict[str, object] = {
        "tenants": sorted(Tenant.objects.values_list("slug", "kind", "tagline")),
        "domains": sorted(Domain.objects.values_list("domain", "tenant__slug", "is_primary")),
        "members": sorted(Member.objects.values_list("email", "is_superuser", "email_verified_at", "password")),
        "memberships": sorted(TenantMembership.objects.values_list("member__email", "tenant__slug", "role")),
        "role_changes": RoleChange.objects.count(),
    }
    for slug in PARTNER_SLUGS:
        tenant = partner(slug)
        state[f"theme:{slug}"] = (tenant.theme.primary_colour, tenant.theme.font_family, tenant.theme.logo_text)
        with tenant_context(tenant):
            from wagtail.models import Page, Revision

            state[f"communities:{slug}"] = sorted(
                Community.objects.values_list("slug", "visibility", "description", "conditions__mesh_id")
            )
            state[f"pages:{slug}"] = sorted(Page.objects.values_list("id", "slug", "live", "latest_revision_id"))
            state[f"revisions:{slug}"] = Revision.objects.count()
            state[f"groups:{slug}"] = sorted(MemberGroup.objects.values_list("id", "member__email", "group__name"))
    use_public_schema()
    return state


def test_four_partner_tenants_each_with_its_own_domain_tagline_and_theme(seeded):
    tenants = {tenant.slug: tenant for tenant in Tenant.objects.filter(slug__in=PARTNER_SLUGS)}
    assert sorted(tenants) == sorted(PARTNER_SLUGS)
    assert {tenant.name for tenant in tenants.values()} == {
        "Breast Cancer Alliance",
        "Multiple Sclerosis Society",
        "Diabetes Foundation",
        "Lupus Alliance",
    }
    for slug, tenant in tenants.items():
        assert tenant.kind == TenantKind.PARTNER
        assert tenant.primary_domain == f"{slug}.localhost"
        assert tenant.tagline
    themes = [tenant.theme for tenant in tenants.values()]
    assert len({theme.primary_colour for theme in themes}) == 4
    assert len({theme.font_family for theme in themes}) == 4
    assert [partner.host for partner in seeded.partners] == [f"{slug}.localhost" for slug in PARTNER_SLUGS]
    # Per partner: two resource pages and one expert session (the home and library come with provisioning),
    # and the seeded conversations' demo voices and topics (demo.discussions).
    assert seeded.created == {
        "tenants": 4,
        "members": 11,
        "memberships": 11,
        "communities": 11,
        "pages": 12,
        "voices": 16,
        "topics": 16,
    }
    assert seeded.missing_conditions == set()


def test_each_partner_has_open_and_members_only_communities_linked_to_conditions(seeded):
    for slug, expected in EXPECTED_COMMUNITIES.items():
        with tenant_context(partner(slug)):
            found = {
                community.slug: (community.visibility, {c.mesh_id for c in community.conditions.all()})
                for community in Community.objects.prefetch_related("conditions")
            }
            assert found == expected
            assert all(len(community.description) > 80 for community in Community.objects.all())
    use_public_schema()


def test_each_partner_has_published_resource_pages_under_its_wagtail_home(seeded):
    from django.utils import timezone
    from wagtail.models import Site

    from cms.models import CommunityHomePage, ExpertSessionPage, ResourceIndexPage, ResourcePage

    for slug in PARTNER_SLUGS:
        with tenant_context(partner(slug)):
            home = Site.objects.get(is_default_site=True).root_page.specific
            assert isinstance(home, CommunityHomePage) and home.live
            assert home.featured_resources.count() == 2 and home.featured_communities.exists()
            library = ResourceIndexPage.objects.child_of(home).get()
            pages = ResourcePage.objects.child_of(library)
            assert pages.count() == 2
            for page in pages:
                assert page.live and page.first_published_at is not None
                assert page.summary and "<p>" in str(page.body)
                assert page.reviewed_at and page.reviewed_by and page.topics.exists()
                assert page.latest_revision is not None
                assert page.latest_revision.user.email == demo.STAFF_EMAIL
            session = ExpertSessionPage.objects.child_of(home).get()
            assert session.live and session.starts_at > timezone.now() and session.community is not None
    use_public_schema()


def test_demo_logins_are_verified_with_the_right_memberships_and_roles(seeded):
    members = {member.email: member for member in Member.objects.filter(email__endswith=".localhost")}
    assert all(member.email_verified and member.check_password(PASSWORD) for member in members.values())
    staff = members[demo.STAFF_EMAIL]
    assert staff.is_superuser and staff.is_staff
    assert not any(m.is_staff or m.is_superuser for email, m in members.items() if email != demo.STAFF_EMAIL)

    def tenants_of(email: str) -> dict[str, str]:
        return dict(TenantMembership.objects.filter(member__email=email).values_list("tenant__slug", "role"))

    assert members[demo.PATIENT_EMAIL].role == "patient"
    assert tenants_of(demo.PATIENT_EMAIL) == {"breast-cancer-alliance": "member", "diabetes-foundation": "member"}
    assert set(members[demo.PATIENT_EMAIL].conditions.values_list("mesh_id", flat=True)) == {"D001943", "D003924"}
    assert members[demo.CAREGIVER_EMAIL].role == "caregiver"
    assert tenants_of(demo.CAREGIVER_EMAIL) == {"multiple-sclerosis-society": "member"}
    for slug in PARTNER_SLUGS:
        assert tenants_of(f"admin@{slug}.localhost") == {slug: "admin"}
        assert tenants_of(f"moderator@{slug}.localhost") == {slug: "moderator"}
        with tenant_context(partner(slug)):
            admin = Member.objects.get(email=f"admin@{slug}.localhost")
            assert admin.has_perm("wagtailadmin.access_admin")
            moderator = Member.objects.get(email=f"moderator@{slug}.localhost")
            assert moderator.has_perm("communities.moderate_community")
            assert not moderator.has_perm("wagtailadmin.access_admin")
        use_public_schema()
    assert [login.email for login in seeded.logins][:3] == [demo.STAFF_EMAIL, demo.PATIENT_EMAIL, demo.CAREGIVER_EMAIL]
    assert len(seeded.logins) == 11


def test_running_it_again_changes_nothing(seeded):
    before = snapshot()
    again = seed_demo(password=PASSWORD)
    use_public_schema()
    assert snapshot() == before
    assert again.created == dict.fromkeys(seeded.created, 0)
    assert [(p.slug, p.created) for p in again.partners] == [(slug, False) for slug in PARTNER_SLUGS]
    assert again.logins == seeded.logins


def test_a_new_password_resets_the_demo_logins_only(seeded):
    seed_demo(password="another-demo-password")
    use_public_schema()
    demo_members = Member.objects.filter(email__endswith=".localhost")
    assert all(member.check_password("another-demo-password") for member in demo_members)
    # The 11 logins the summary lists, plus the 16 demo voices of the seeded conversations.
    assert Member.objects.filter(email__endswith=".localhost").count() == 11 + 16


def test_a_weak_password_is_refused_before_anything_is_written(taxonomy):
    tenants_before = Tenant.objects.count()
    with pytest.raises(InvalidInput) as excinfo:
        seed_demo(password="short")
    assert "password" in excinfo.value.details
    assert Tenant.objects.count() == tenants_before
    assert not Member.objects.filter(email=demo.STAFF_EMAIL).exists()


def test_a_condition_missing_from_the_taxonomy_is_skipped_not_fatal(taxonomy):
    first = demo.PARTNERS[0]
    community = dataclasses.replace(first.communities[0], mesh_ids=("D999999", "D001943"))
    patched = dataclasses.replace(first, communities=(community, *first.communities[1:]))
    summary = seed_demo(password=PASSWORD, partners=(patched, *demo.PARTNERS[1:]))
    assert summary.missing_conditions == {"D999999"}
    with tenant_context(partner("breast-cancer-alliance")):
        linked = Community.objects.get(slug=community.slug).conditions.values_list("mesh_id", flat=True)
        assert list(linked) == ["D001943"]
    use_public_schema()
    assert any("D999999" in line for line in summary.as_lines(port=8000))


def test_a_demo_member_can_sign_in_and_sees_members_only_communities(seeded):
    client = host_client("localhost")
    response = client.post("/accounts/login/", {"login": demo.PATIENT_EMAIL, "password": PASSWORD})
    assert response.status_code == 302
    maria = Member.objects.get(email=demo.PATIENT_EMAIL)
    assert client.session["_auth_user_id"] == str(maria.pk)

    stranger = host_client("localhost")
    wrong = stranger.post("/accounts/login/", {"login": demo.PATIENT_EMAIL, "password": "not-the-password"})
    assert wrong.status_code == 200 and "_auth_user_id" not in stranger.session

    bca = "breast-cancer-alliance.localhost"
    anonymous = host_client(bca).get("/").content.decode()
    assert "Newly Diagnosed" in anonymous and "Triple-Negative Circle" not in anonymous
    as_maria = signed_in(bca, maria).get("/").content.decode()
    assert "Triple-Negative Circle" in as_maria


def test_the_summary_names_every_url_and_login(seeded):
    text = "\n".join(seeded.as_lines(port=8123))
    assert "http://localhost:8123/" in text
    for slug in PARTNER_SLUGS:
        assert f"http://{slug}.localhost:8123/" in text
        assert f"http://{slug}.localhost:8123/admin/" in text
        assert f"admin@{slug}.localhost" in text and f"moderator@{slug}.localhost" in text
    assert PASSWORD in text and demo.STAFF_EMAIL in text


def test_demo_communities_are_found_in_the_platform_directory(seeded):
    from directory.selectors import search_directory

    found = {(entry.tenant.slug, entry.community_slug) for entry in search_directory(query="MS")}
    assert found
    assert {tenant for tenant, _ in found} == {"multiple-sclerosis-society"}
    response = host_client("localhost").get("/communities/", {"q": "type 1 diabetes"})
    assert "Diabetes Foundation" in response.content.decode()


def test_the_roots_example_searches_find_demo_communities(seeded):
    """The home page and directory suggest "lupus, MS or D009103": each must find something."""
    client = host_client("localhost")
    assert "lupus" in client.get("/").content.decode()
    for query, partner_name in (
        ("lupus", "Lupus Alliance"),
        ("SLE", "Lupus Alliance"),
        ("MS", "Multiple Sclerosis Society"),
        ("D009103", "Multiple Sclerosis Society"),
    ):
        page = client.get("/communities/", {"q": query}).content.decode()
        assert partner_name in page, query
    found = client.get("/api/v1/directory/", {"q": "lupus"}).json()
    assert {row["slug"] for row in found} >= {"living-with-lupus", "lupus-nephritis-circle"}


def test_every_partner_home_shows_living_conversations_with_replies(seeded):
    from communities.models import ContentStatus, Topic

    for slug in PARTNER_SLUGS:
        tenant = partner(slug)
        with tenant_context(tenant):
            topics = list(Topic.objects.filter(status=ContentStatus.PUBLISHED))
            assert len(topics) >= 4
            assert all(topic.posts.filter(status=ContentStatus.PUBLISHED).count() >= 2 for topic in topics)
        use_public_schema()
        home = host_client(f"{slug}.localhost").get("/").content.decode()
        assert "No open conversations yet" not in home
        assert topics[0].title.replace("'", "&#x27;") in home or any(t.title in home for t in topics)


def test_demo_themes_pass_wcag_aa(seeded):
    from themes.contrast import theme_checks

    for slug in PARTNER_SLUGS:
        theme = partner(slug).theme
        checks = theme_checks(
            primary=theme.primary_colour,
            secondary=theme.secondary_colour,
            accent=theme.accent_colour,
            background=theme.background_colour,
        )
        assert [check.message for check in checks if not check.passes] == []
