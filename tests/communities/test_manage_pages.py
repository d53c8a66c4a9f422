"""The tenant's management pages (/manage/): who may open them, the forms that call the community
services, join requests, tag curation, inert user text and the robots header."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    JoiningPolicy,
    Tag,
    TagKind,
    TagStatus,
    Visibility,
)
from conditions.models import Condition
from directory.models import DirectoryEntry
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, host_client, signed_in
from tests.factories import (
    CommunityFactory,
    CommunityMembershipFactory,
    MemberFactory,
    TagFactory,
    TopicFactory,
    community_world,
)

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]
SLUG = "lupus-circle"
XSS_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)>'

DASHBOARD = "/manage/"
NEW = "/manage/communities/new/"
EDIT = f"/manage/communities/{SLUG}/edit/"
REQUESTS = f"/manage/communities/{SLUG}/requests/"
TAGS = f"/manage/communities/{SLUG}/tags/"
ALL_PAGES = [DASHBOARD, NEW, EDIT, REQUESTS, TAGS]
MODERATOR_PAGES = [DASHBOARD, REQUESTS, TAGS]
ADMIN_ONLY_PAGES = [NEW, EDIT]


@pytest.fixture
def world_fields():
    return {"name": "Lupus circle", "slug": SLUG, "joining_policy": JoiningPolicy.APPROVAL}


@pytest.fixture
def world(world, tenant_b):
    w = world
    w.curated = TagFactory(community=w.community, kind=TagKind.SYMPTOM, name="Fatigue", slug="fatigue")
    w.proposed = TagFactory(
        community=w.community,
        kind=TagKind.SYMPTOM,
        name="Tiredness",
        slug="tiredness",
        status=TagStatus.PROPOSED,
        proposed_by=w.alice,
    )
    w.pending = CommunityMembershipFactory(
        community=w.community, member=w.carol, status=CommunityMembershipStatus.PENDING
    )
    use_public_schema()
    with tenant_context(tenant_b):
        w.other = community_world(tenant=tenant_b, name="Beta circle", slug="beta-circle")
    use_public_schema()
    w.condition = Condition.objects.create(mesh_id="TSTM001", name="Test lupus manage", slug="test-lupus-manage")
    return w


def text(response) -> str:
    return response.content.decode()


def community_count(tenant) -> int:
    with tenant_context(tenant):
        count = Community.objects.count()
    use_public_schema()
    return count


def community_form(**overrides):
    data = {
        "name": "Lupus nephritis",
        "slug": "lupus-nephritis",
        "description": "Kidneys & lupus.",
        "rules": "Be kind.",
        "visibility": Visibility.MEMBERS_ONLY,
        "joining_policy": JoiningPolicy.OPEN,
        "listed_in_directory": "on",
    }
    data.update(overrides)
    return data


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(world, path):
    response = host_client(HOST).get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/auth/login/?next={path}"
    assert response["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize("person", ["alice", "carol", "stranger"])
@pytest.mark.parametrize("path", ALL_PAGES)
def test_members_and_strangers_get_404(world, person, path):
    assert signed_in(HOST, getattr(world, person)).get(path).status_code == 404


@pytest.mark.parametrize("path", ALL_PAGES)
def test_admin_of_another_tenant_gets_404(world, path):
    assert signed_in(HOST, world.other.admin).get(path).status_code == 404
    assert signed_in(HOST, world.other.moderator).get(path).status_code == 404


@pytest.mark.parametrize("path", MODERATOR_PAGES)
def test_moderator_opens_requests_and_tags(world, path):
    response = signed_in(HOST, world.moderator).get(path)
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize("path", ADMIN_ONLY_PAGES)
def test_moderator_cannot_create_or_edit(world, path):
    client = signed_in(HOST, world.moderator)
    assert client.get(path).status_code == 404
    assert client.post(path, community_form(name="Hijacked", slug=SLUG)).status_code == 404
    with tenant_context(world.tenant):
        assert Community.objects.get(slug=SLUG).name == "Lupus circle"
        assert not Community.objects.filter(name="Hijacked").exists()


@pytest.mark.parametrize("path", ALL_PAGES)
def test_admin_opens_every_page_never_indexed(world, path):
    response = signed_in(HOST, world.admin).get(path)
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in text(response)


def test_unknown_community_is_404(world):
    client = signed_in(HOST, world.admin)
    for path in ("edit", "requests", "tags"):
        assert client.get(f"/manage/communities/no-such-thing/{path}/").status_code == 404


def test_writes_are_post_only_and_csrf_protected(world):
    admin_client = signed_in(HOST, world.admin)
    decide = f"{REQUESTS}{world.pending.pk}/decide/"
    assert admin_client.get(decide).status_code == 405
    assert admin_client.get(f"{TAGS}{world.proposed.pk}/approve/").status_code == 405

    strict = signed_in(HOST, world.admin, enforce_csrf_checks=True)
    assert strict.post(NEW, community_form()).status_code == 403
    assert strict.post(decide, {"decision": "approve"}).status_code == 403
    form_page = text(strict.get(NEW))
    assert 'name="csrfmiddlewaretoken"' in form_page
    with tenant_context(world.tenant):
        assert not Community.objects.filter(slug="lupus-nephritis").exists()
        assert CommunityMembership.objects.get(pk=world.pending.pk).status == CommunityMembershipStatus.PENDING


# --- dashboard -------------------------------------------------------------------------------


def test_dashboard_lists_communities_counts_requests_and_proposed_tags(world):
    body = text(signed_in(HOST, world.moderator).get(DASHBOARD))
    assert "Lupus circle" in body
    assert "Beta circle" not in body
    # alice and bob are members; carol waits; one proposed tag.
    assert '<td class="num">2</td>' in body
    assert "Carol asked to join" in body
    assert "Symptom: Tiredness" in body
    assert "proposed by Alice" in body
    # Moderators see no create/edit links; admins do.
    assert NEW not in body
    assert EDIT not in body
    admin_body = text(signed_in(HOST, world.admin).get(DASHBOARD))
    assert NEW in admin_body
    assert EDIT in admin_body


# --- create and edit -------------------------------------------------------------------------


def test_admin_creates_a_community_with_conditions_listed_in_directory(world):
    client = signed_in(HOST, world.admin)
    response = client.post(NEW, community_form(conditions=[world.condition.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/c/lupus-nephritis/"
    assert response["X-Robots-Tag"] == "noindex, nofollow"

    page = client.get("/c/lupus-nephritis/")
    assert page.status_code == 200
    assert "Lupus nephritis" in text(page)
    assert "Kidneys &amp; lupus." in text(page)

    with tenant_context(world.tenant):
        community = Community.objects.get(slug="lupus-nephritis")
        assert community.rules == "Be kind."
        assert community.visibility == Visibility.MEMBERS_ONLY
        assert community.joining_policy == JoiningPolicy.OPEN
        assert list(community.conditions.values_list("pk", flat=True)) == [world.condition.pk]
    use_public_schema()
    entry = DirectoryEntry.objects.get(tenant=world.tenant, community_slug="lupus-nephritis")
    assert entry.name == "Lupus nephritis"
    assert list(entry.conditions.values_list("pk", flat=True)) == [world.condition.pk]


def test_unlisted_community_stays_out_of_the_directory(world):
    data = community_form(slug="quiet-room", name="Quiet room")
    del data["listed_in_directory"]
    response = signed_in(HOST, world.admin).post(NEW, data)
    assert response.status_code == 302
    with tenant_context(world.tenant):
        assert Community.objects.get(slug="quiet-room").listed_in_directory is False
    use_public_schema()
    assert not DirectoryEntry.objects.filter(tenant=world.tenant, community_slug="quiet-room").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slug": "Bad Slug!"}, "Use lower-case letters, digits and hyphens for the address."),
        ({"slug": SLUG}, "A community already uses that address."),
        ({"name": "x"}, "A community name needs 2 to 120 characters."),
        ({"slug": ""}, "This field is required."),
    ],
)
def test_invalid_input_shows_an_error_and_creates_nothing(world, overrides, message):
    before = community_count(world.tenant)
    directory_before = DirectoryEntry.objects.count()
    response = signed_in(HOST, world.admin).post(NEW, community_form(**overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert community_count(world.tenant) == before
    assert DirectoryEntry.objects.count() == directory_before


def test_unknown_condition_is_refused(world):
    before = community_count(world.tenant)
    response = signed_in(HOST, world.admin).post(NEW, community_form(conditions=[999_999_999]))
    assert response.status_code == 200
    assert "Select a valid choice" in text(response)
    assert community_count(world.tenant) == before


def test_admin_edits_a_community_and_the_directory_follows(world):
    client = signed_in(HOST, world.admin)
    form = text(client.get(EDIT))
    assert 'value="Lupus circle"' in form
    response = client.post(
        EDIT,
        community_form(
            name="Lupus circle renamed",
            slug="lupus-renamed",
            visibility=Visibility.OPEN,
            joining_policy=JoiningPolicy.APPROVAL,
            conditions=[world.condition.pk],
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/c/lupus-renamed/"
    with tenant_context(world.tenant):
        community = Community.objects.get(pk=world.community.pk)
        assert (community.name, community.slug, community.visibility) == (
            "Lupus circle renamed",
            "lupus-renamed",
            Visibility.OPEN,
        )
        assert list(community.conditions.values_list("pk", flat=True)) == [world.condition.pk]
    use_public_schema()
    assert list(DirectoryEntry.objects.filter(tenant=world.tenant).values_list("community_slug", flat=True)) == [
        "lupus-renamed"
    ]

    unlisted = community_form(name="Lupus circle renamed", slug="lupus-renamed")
    del unlisted["listed_in_directory"]
    assert client.post("/manage/communities/lupus-renamed/edit/", unlisted).status_code == 302
    assert not DirectoryEntry.objects.filter(tenant=world.tenant).exists()


def test_edit_to_a_taken_slug_changes_nothing(world):
    with tenant_context(world.tenant):
        CommunityFactory(name="Other", slug="other-room")
    use_public_schema()
    response = signed_in(HOST, world.admin).post(EDIT, community_form(name="Renamed", slug="other-room"))
    assert response.status_code == 200
    assert "A community already uses that address." in text(response)
    with tenant_context(world.tenant):
        community = Community.objects.get(pk=world.community.pk)
        assert (community.name, community.slug) == ("Lupus circle", SLUG)


# --- join requests ---------------------------------------------------------------------------


def test_moderator_sees_and_approves_a_request(world):
    client = signed_in(HOST, world.moderator)
    page = text(client.get(REQUESTS))
    assert "Carol" in page
    assert f"{REQUESTS}{world.pending.pk}/decide/" in page
    response = client.post(f"{REQUESTS}{world.pending.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    assert response["Location"] == REQUESTS
    with tenant_context(world.tenant):
        assert CommunityMembership.objects.get(pk=world.pending.pk).status == CommunityMembershipStatus.ACTIVE
    use_public_schema()
    after = text(client.get(REQUESTS))
    assert "Carol joined Lupus circle." in after
    assert "No requests are waiting." in after


def test_moderator_denies_a_request(world):
    client = signed_in(HOST, world.moderator)
    response = client.post(f"{REQUESTS}{world.pending.pk}/decide/", {"decision": "deny"})
    assert response.status_code == 302
    with tenant_context(world.tenant):
        assert not CommunityMembership.objects.filter(pk=world.pending.pk).exists()
    use_public_schema()
    # Deciding again tells the moderator instead of failing.
    again = client.post(f"{REQUESTS}{world.pending.pk}/decide/", {"decision": "approve"}, follow=True)
    assert "That request was already decided." in text(again)


def test_member_cannot_decide_a_request(world):
    response = signed_in(HOST, world.alice).post(f"{REQUESTS}{world.pending.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 404
    with tenant_context(world.tenant):
        assert CommunityMembership.objects.get(pk=world.pending.pk).status == CommunityMembershipStatus.PENDING


def test_bad_decision_changes_nothing(world):
    client = signed_in(HOST, world.moderator)
    response = client.post(f"{REQUESTS}{world.pending.pk}/decide/", {"decision": "maybe"}, follow=True)
    assert "Choose approve or deny." in text(response)
    with tenant_context(world.tenant):
        assert CommunityMembership.objects.get(pk=world.pending.pk).status == CommunityMembershipStatus.PENDING


# --- tags ------------------------------------------------------------------------------------


def test_tags_page_lists_curated_and_proposed(world):
    body = text(signed_in(HOST, world.moderator).get(TAGS))
    assert "Fatigue" in body
    assert "Symptom: Tiredness" in body
    assert f'name="merge-{world.proposed.pk}-target"' in body


def test_moderator_adds_a_curated_tag(world):
    client = signed_in(HOST, world.moderator)
    response = client.post(TAGS, {"kind": TagKind.TREATMENT, "name": "Hydroxychloroquine"})
    assert response.status_code == 302
    with tenant_context(world.tenant):
        tag = Tag.objects.get(community=world.community, slug="hydroxychloroquine")
        assert (tag.kind, tag.status) == (TagKind.TREATMENT, TagStatus.CURATED)


def test_invalid_tag_shows_an_error_and_adds_nothing(world):
    with tenant_context(world.tenant):
        before = Tag.objects.count()
    use_public_schema()
    response = signed_in(HOST, world.moderator).post(TAGS, {"kind": TagKind.TOPIC, "name": "!"})
    assert response.status_code == 200
    assert "A tag needs 2 to 60 characters, including letters or digits." in text(response)
    with tenant_context(world.tenant):
        assert Tag.objects.count() == before


def test_moderator_approves_a_proposed_tag(world):
    response = signed_in(HOST, world.moderator).post(f"{TAGS}{world.proposed.pk}/approve/")
    assert response.status_code == 302
    with tenant_context(world.tenant):
        assert Tag.objects.get(pk=world.proposed.pk).status == TagStatus.CURATED
        assert Tag.objects.filter(community=world.community, slug="tiredness").count() == 1


def test_merging_a_proposed_tag_retags_its_topics(world):
    with tenant_context(world.tenant):
        topic = TopicFactory(community=world.community, author=world.alice)
        topic.tags.add(world.proposed)
    use_public_schema()
    client = signed_in(HOST, world.moderator)
    response = client.post(f"{TAGS}{world.proposed.pk}/merge/", {f"merge-{world.proposed.pk}-target": world.curated.pk})
    assert response.status_code == 302
    with tenant_context(world.tenant):
        assert list(topic.tags.values_list("pk", flat=True)) == [world.curated.pk]
        merged = Tag.objects.get(pk=world.proposed.pk)
        assert (merged.status, merged.merged_into_id) == (TagStatus.MERGED, world.curated.pk)
    use_public_schema()
    assert "its topics carry the new tag" in text(client.get(TAGS))


def test_merge_into_a_tag_of_another_community_is_refused(world):
    with tenant_context(world.tenant):
        elsewhere = TagFactory(community=CommunityFactory(), kind=TagKind.SYMPTOM, name="Pain", slug="pain")
    use_public_schema()
    response = signed_in(HOST, world.moderator).post(
        f"{TAGS}{world.proposed.pk}/merge/", {f"merge-{world.proposed.pk}-target": elsewhere.pk}, follow=True
    )
    assert "Choose a tag from the list to merge into." in text(response)
    with tenant_context(world.tenant):
        assert Tag.objects.get(pk=world.proposed.pk).status == TagStatus.PROPOSED


def test_member_cannot_curate_tags(world):
    client = signed_in(HOST, world.alice)
    assert client.post(TAGS, {"kind": TagKind.TOPIC, "name": "Sneaky"}).status_code == 404
    assert client.post(f"{TAGS}{world.proposed.pk}/approve/").status_code == 404
    merge = client.post(f"{TAGS}{world.proposed.pk}/merge/", {f"merge-{world.proposed.pk}-target": world.curated.pk})
    assert merge.status_code == 404
    with tenant_context(world.tenant):
        assert not Tag.objects.filter(slug="sneaky").exists()
        assert Tag.objects.get(pk=world.proposed.pk).status == TagStatus.PROPOSED


# --- inert user text -------------------------------------------------------------------------


def test_xss_in_names_renders_inert(world):
    with tenant_context(world.tenant):
        CommunityFactory(name=XSS_NAME, slug="xss-room")
        world.community.name = XSS_NAME
        world.community.save(update_fields=["name"])
        Tag.objects.filter(pk=world.proposed.pk).update(name=XSS_NAME[:60])
    use_public_schema()
    client = signed_in(HOST, world.admin)
    for path in (DASHBOARD, EDIT, REQUESTS, TAGS, "/manage/communities/xss-room/edit/"):
        body = text(client.get(path))
        assert "<script>alert" not in body, path
        assert "<img src=x" not in body, path
        assert "&lt;script&gt;" in body, path


def test_xss_name_typed_into_the_form_is_stored_as_text_and_rendered_inert(world):
    client = signed_in(HOST, world.admin)
    response = client.post(NEW, community_form(name=XSS_NAME, slug="typed-xss"))
    assert response.status_code == 302
    body = text(client.get("/c/typed-xss/"))
    assert "<script>alert" not in body
    assert "&lt;script&gt;" in body


# --- bounded queries -------------------------------------------------------------------------


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_dashboard_and_lists_use_a_bounded_number_of_queries(world):
    client = signed_in(HOST, world.moderator)
    for path in (DASHBOARD, REQUESTS, TAGS):  # warm caches (the theme): steady-state counts are compared
        client.get(path)
    before = {path: _queries(client, path) for path in (DASHBOARD, REQUESTS, TAGS)}
    with tenant_context(world.tenant):
        for number in range(5):
            community = CommunityFactory()
            member = MemberFactory()
            CommunityMembershipFactory(community=community, member=member, status=CommunityMembershipStatus.PENDING)
            CommunityMembershipFactory(
                community=world.community, member=MemberFactory(), status=CommunityMembershipStatus.PENDING
            )
            TagFactory(community=community, status=TagStatus.PROPOSED, proposed_by=member)
            TagFactory(community=world.community, status=TagStatus.PROPOSED, name=f"Proposed {number}")
            TagFactory(community=world.community, status=TagStatus.CURATED, name=f"Curated {number}")
    use_public_schema()
    after = {path: _queries(client, path) for path in (DASHBOARD, REQUESTS, TAGS)}
    assert after == before


def test_manage_link_shows_for_moderators_only(tenant_a):
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a)
    use_public_schema()
    assert 'href="/manage/"' in signed_in(TENANT_A["domain"], world.moderator).get("/").content.decode()
    assert 'href="/manage/"' not in signed_in(TENANT_A["domain"], world.alice).get("/").content.decode()
