"""Communities, membership, topics, replies, edits, soft deletes, answers and tags."""

from __future__ import annotations

import datetime

import pytest
from django.http import Http404
from django.utils import timezone
from django_tenants.utils import tenant_context

from communities import services
from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    JoiningPolicy,
    Post,
    PostRevision,
    Tag,
    TagKind,
    TagStatus,
    Topic,
    TopicKind,
    TopicSubscription,
    Visibility,
    WatchLevel,
)
from communities.selectors import access_topic, topic_posts
from communities.wording import REMOVED_HTML
from conditions.models import Condition
from core.errors import Conflict, InvalidInput, NotAllowed
from directory.models import DirectoryEntry
from members.models import TenantMembership
from tests.factories import MemberFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _generous_rate(settings):
    settings.KINDRED_POSTING_RATE = "1000/1m"


def ask(world, member=None, **fields):
    defaults = {"kind": TopicKind.QUESTION, "title": "Fatigue after infusions?", "body": "Does anyone else get this?"}
    return services.create_topic(
        acting_member=member or world.alice, tenant=world.tenant, community=world.community, **{**defaults, **fields}
    )


class TestCommunities:
    def test_admin_creates_a_community_with_conditions(self, world):
        condition = Condition.objects.create(mesh_id="D999001", name="Test lupus", slug="test-lupus")
        community = services.create_community(
            acting_member=world.admin,
            tenant=world.tenant,
            name="  Lupus   nephritis ",
            slug="lupus-nephritis",
            condition_ids=[condition.pk],
            visibility=Visibility.OPEN,
            joining_policy=JoiningPolicy.APPROVAL,
        )
        assert (community.name, community.visibility, community.joining_policy) == (
            "Lupus nephritis",
            Visibility.OPEN,
            JoiningPolicy.APPROVAL,
        )
        assert list(community.conditions.values_list("pk", flat=True)) == [condition.pk]

    @pytest.mark.parametrize("who", ["moderator", "alice", "stranger"])
    def test_non_admins_cannot_create(self, world, who):
        before = Community.objects.count()
        with pytest.raises(NotAllowed) as error:
            services.create_community(acting_member=getattr(world, who), tenant=world.tenant, name="X y", slug="xy")
        assert error.value.code == "not_admin"
        assert Community.objects.count() == before
        assert not DirectoryEntry.objects.filter(community_slug="xy").exists()

    def test_superuser_creates_and_duplicate_slug_conflicts(self, world):
        root = MemberFactory(is_superuser=True, is_staff=True)
        services.create_community(acting_member=root, tenant=world.tenant, name="Caregivers", slug="caregivers")
        with pytest.raises(Conflict):
            services.create_community(acting_member=root, tenant=world.tenant, name="Other", slug="caregivers")
        assert Community.objects.filter(slug="caregivers").count() == 1

    def test_invalid_input_changes_nothing(self, world):
        before = Community.objects.count()
        for kwargs in (
            {"name": "x", "slug": "ok"},
            {"name": "Fine", "slug": "Not A Slug"},
            {"name": "Fine", "slug": "fine", "visibility": "secret"},
            {"name": "Fine", "slug": "fine", "condition_ids": [987654321]},
        ):
            with pytest.raises(InvalidInput):
                services.create_community(acting_member=world.admin, tenant=world.tenant, **kwargs)
        assert Community.objects.count() == before

    def test_update_community(self, world):
        services.update_community(
            acting_member=world.admin, tenant=world.tenant, community=world.community, visibility=Visibility.OPEN
        )
        world.community.refresh_from_db()
        assert world.community.visibility == Visibility.OPEN
        with pytest.raises(NotAllowed):
            services.update_community(
                acting_member=world.moderator, tenant=world.tenant, community=world.community, name="Taken over"
            )
        world.community.refresh_from_db()
        assert world.community.name != "Taken over"

    def test_directory_follows_the_listing(self, world):
        condition = Condition.objects.create(mesh_id="D999002", name="Test MS", slug="test-ms")
        community = services.create_community(
            acting_member=world.admin,
            tenant=world.tenant,
            name="MS caregivers",
            slug="ms-caregivers",
            description="For families",
            condition_ids=[condition.pk],
            visibility=Visibility.OPEN,
        )
        entry = DirectoryEntry.objects.get(tenant=world.tenant, community_slug="ms-caregivers")
        assert (entry.name, entry.description, entry.visibility) == ("MS caregivers", "For families", "open")
        assert list(entry.conditions.values_list("pk", flat=True)) == [condition.pk]
        services.update_community(
            acting_member=world.admin, tenant=world.tenant, community=community, slug="ms-families", name="MS families"
        )
        assert list(DirectoryEntry.objects.filter(tenant=world.tenant).values_list("community_slug", "name")) == [
            ("ms-families", "MS families")
        ]
        services.update_community(
            acting_member=world.admin, tenant=world.tenant, community=community, listed_in_directory=False
        )
        assert not DirectoryEntry.objects.filter(tenant=world.tenant).exists()


class TestJoining:
    def test_verified_member_joins_tenant_on_the_way_idempotently(self, world):
        newcomer = MemberFactory()
        first = services.join_community(member=newcomer, tenant=world.tenant, community=world.community)
        second = services.join_community(member=newcomer, tenant=world.tenant, community=world.community)
        assert first.pk == second.pk and first.status == CommunityMembershipStatus.ACTIVE
        assert TenantMembership.objects.filter(member=newcomer, tenant=world.tenant).count() == 1

    def test_unverified_member_cannot_join(self, world):
        newcomer = MemberFactory(email_verified_at=None)
        with pytest.raises(NotAllowed) as error:
            services.join_community(member=newcomer, tenant=world.tenant, community=world.community)
        assert error.value.code == "email_unverified"
        assert not CommunityMembership.objects.filter(member=newcomer).exists()
        assert not TenantMembership.objects.filter(member=newcomer).exists()

    def test_approval_policy_pending_then_moderator_decides(self, world):
        world.community.joining_policy = JoiningPolicy.APPROVAL
        world.community.save()
        request = services.join_community(member=world.carol, tenant=world.tenant, community=world.community)
        assert request.status == CommunityMembershipStatus.PENDING
        with pytest.raises(NotAllowed):
            services.decide_join_request(
                acting_member=world.alice, tenant=world.tenant, membership=request, approve=True
            )
        assert CommunityMembership.objects.get(pk=request.pk).status == CommunityMembershipStatus.PENDING
        approved = services.decide_join_request(
            acting_member=world.moderator, tenant=world.tenant, membership=request, approve=True
        )
        assert approved is not None and approved.status == CommunityMembershipStatus.ACTIVE
        with pytest.raises(Conflict):
            services.decide_join_request(
                acting_member=world.moderator, tenant=world.tenant, membership=request, approve=False
            )

    def test_refused_request_is_removed_and_leave_is_idempotent(self, world):
        world.community.joining_policy = JoiningPolicy.APPROVAL
        world.community.save()
        request = services.join_community(member=world.carol, tenant=world.tenant, community=world.community)
        assert (
            services.decide_join_request(
                acting_member=world.moderator, tenant=world.tenant, membership=request, approve=False
            )
            is None
        )
        assert not CommunityMembership.objects.filter(member=world.carol).exists()
        services.leave_community(member=world.alice, tenant=world.tenant, community=world.community)
        services.leave_community(member=world.alice, tenant=world.tenant, community=world.community)
        assert not CommunityMembership.objects.filter(member=world.alice).exists()


class TestTopics:
    def test_member_posts_a_question_with_tags(self, world):
        fatigue = TagFactory(community=world.community, kind=TagKind.SYMPTOM, name="Fatigue", slug="fatigue")
        topic = ask(world, body="**Tired** all day", tag_ids=[fatigue.pk], proposed_tag_names=["Brain fog"])
        opening = Post.objects.get(topic=topic)
        assert opening.is_opening and opening.body_html == "<p><strong>Tired</strong> all day</p>"
        assert sorted(topic.tags.values_list("slug", "status")) == [
            ("brain-fog", TagStatus.PROPOSED),
            ("fatigue", TagStatus.CURATED),
        ]
        assert TopicSubscription.objects.get(topic=topic, member=world.alice).level == WatchLevel.WATCHING

    @pytest.mark.parametrize("who", ["carol", "stranger", "moderator"])
    def test_only_active_community_members_post(self, world, who):
        with pytest.raises(NotAllowed) as error:
            ask(world, member=getattr(world, who))
        assert error.value.code == "not_community_member"
        assert Topic.objects.count() == 0 and Post.objects.count() == 0

    def test_pending_member_cannot_post(self, world):
        CommunityMembership.objects.filter(member=world.bob).update(status=CommunityMembershipStatus.PENDING)
        with pytest.raises(NotAllowed):
            ask(world, member=world.bob)
        assert Topic.objects.count() == 0

    @pytest.mark.parametrize(
        ("fields", "code"),
        [
            ({"title": "Hi"}, "title_length"),
            ({"title": "x" * 201}, "title_length"),
            ({"body": "   "}, "body_empty"),
            ({"body": "x" * 20_001}, "body_too_long"),
            ({"kind": "poll"}, "kind_invalid"),
            ({"proposed_tag_names": ["!"]}, "tag_invalid"),
        ],
    )
    def test_invalid_topics_change_nothing(self, world, fields, code):
        with pytest.raises(InvalidInput) as error:
            ask(world, **fields)
        assert error.value.code == code
        assert (Topic.objects.count(), Post.objects.count(), Tag.objects.count()) == (0, 0, 0)

    def test_tags_must_be_curated_and_of_this_community(self, world):
        proposed = TagFactory(community=world.community, status=TagStatus.PROPOSED)
        elsewhere = TagFactory()
        for tag in (proposed, elsewhere):
            with pytest.raises(InvalidInput):
                ask(world, tag_ids=[tag.pk])
        assert Topic.objects.count() == 0

    def test_limits_are_inclusive(self, world):
        topic = ask(world, title="abc", body="y" * 20_000)
        assert topic.title == "abc"


class TestReplies:
    def test_reply_bumps_activity_and_count(self, world):
        topic = ask(world)
        before = Topic.objects.get(pk=topic.pk).last_activity_at
        services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="Yes, me too.")
        topic.refresh_from_db()
        assert topic.reply_count == 1 and topic.last_activity_at > before
        assert TopicSubscription.objects.get(topic=topic, member=world.bob).level == WatchLevel.TRACKING

    def test_quote_renders_a_blockquote(self, world):
        topic = ask(world, body="My **first** line")
        opening = Post.objects.get(topic=topic)
        reply = services.create_reply(
            acting_member=world.bob, tenant=world.tenant, topic=topic, body="Same here", quoted_post=opening
        )
        assert reply.body_markdown == "Same here"
        assert "<blockquote>\n<p>My <strong>first</strong> line</p>\n</blockquote>" in reply.body_html
        assert reply.body_html.startswith("<p>Alice wrote:</p>")

    def test_cannot_quote_another_topic(self, world):
        other = ask(world, title="Another topic")
        topic = ask(world)
        with pytest.raises(InvalidInput):
            services.create_reply(
                acting_member=world.bob,
                tenant=world.tenant,
                topic=topic,
                body="x",
                quoted_post=Post.objects.get(topic=other),
            )
        assert Topic.objects.get(pk=topic.pk).reply_count == 0
        assert Post.objects.filter(topic=topic).count() == 1


class TestEditing:
    def test_author_edits_and_revision_is_kept(self, world):
        topic = ask(world, body="original")
        post = Post.objects.get(topic=topic)
        services.edit_post(acting_member=world.alice, tenant=world.tenant, post=post, body="*changed*")
        post.refresh_from_db()
        assert (post.body_markdown, post.body_html, post.edit_count) == ("*changed*", "<p><em>changed</em></p>", 1)
        revision = PostRevision.objects.get(post=post)
        assert (revision.body_markdown, revision.edited_by_id) == ("original", world.alice.pk)

    def test_opening_post_edit_renames_the_topic(self, world):
        topic = ask(world, body="original")
        post = Post.objects.get(topic=topic)
        services.edit_post(acting_member=world.alice, tenant=world.tenant, post=post, body="original", title="Renamed")
        assert Topic.objects.get(pk=topic.pk).title == "Renamed" and not PostRevision.objects.exists()
        with pytest.raises(InvalidInput):
            services.edit_post(acting_member=world.alice, tenant=world.tenant, post=post, body="new", title="x")
        post.refresh_from_db()
        assert post.body_markdown == "original" and Topic.objects.get(pk=topic.pk).title == "Renamed"

    @pytest.mark.parametrize("who", ["bob", "moderator", "admin"])
    def test_others_cannot_edit(self, world, who):
        post = Post.objects.get(topic=ask(world, body="original"))
        with pytest.raises(NotAllowed):
            services.edit_post(acting_member=getattr(world, who), tenant=world.tenant, post=post, body="hijacked")
        post.refresh_from_db()
        assert post.body_markdown == "original" and not PostRevision.objects.exists()

    def test_edit_window(self, world, settings):
        settings.KINDRED_EDIT_WINDOW_MINUTES = 5
        post = Post.objects.get(topic=ask(world, body="original"))
        Post.objects.filter(pk=post.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=6))
        post.refresh_from_db()
        with pytest.raises(NotAllowed) as error:
            services.edit_post(acting_member=world.alice, tenant=world.tenant, post=post, body="late")
        assert error.value.code == "edit_window_closed"
        post.refresh_from_db()
        assert post.body_markdown == "original" and not PostRevision.objects.exists()


class TestDeleting:
    def test_deleting_my_opening_post_keeps_the_thread(self, world):
        topic = ask(world, body="secret details")
        reply = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="Bob's reply")
        opening = Post.objects.get(topic=topic, is_opening=True)
        services.delete_post(acting_member=world.alice, tenant=world.tenant, post=opening)
        assert access_topic(member=world.bob, tenant=world.tenant, topic_id=topic.pk) == topic
        seen = topic_posts(member=world.bob, tenant=world.tenant, topic=topic)
        assert [(v.post.pk, v.is_removed) for v in seen] == [(opening.pk, True), (reply.pk, False)]
        assert seen[0].body_html == REMOVED_HTML
        assert "secret" not in seen[0].body_html and "Bob" in seen[1].body_html
        as_moderator = topic_posts(member=world.moderator, tenant=world.tenant, topic=topic)
        assert as_moderator[0].is_removed and "secret details" in as_moderator[0].body_html

    def test_only_author_or_moderator_deletes_and_only_moderator_restores(self, world):
        topic = ask(world)
        reply = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="reply")
        with pytest.raises(NotAllowed):
            services.delete_post(acting_member=world.alice, tenant=world.tenant, post=reply)
        reply.refresh_from_db()
        assert reply.deleted_at is None and Topic.objects.get(pk=topic.pk).reply_count == 1

        services.delete_post(acting_member=world.bob, tenant=world.tenant, post=reply)
        reply.refresh_from_db()
        assert reply.deleted_at is not None and reply.deleted_by_id == world.bob.pk
        assert Topic.objects.get(pk=topic.pk).reply_count == 0

        with pytest.raises(NotAllowed):
            services.restore_post(acting_member=world.bob, tenant=world.tenant, post=reply)
        reply.refresh_from_db()
        assert reply.deleted_at is not None

        services.restore_post(acting_member=world.moderator, tenant=world.tenant, post=reply)
        reply.refresh_from_db()
        assert reply.deleted_at is None and Topic.objects.get(pk=topic.pk).reply_count == 1

    def test_moderator_deletes_anyones_post(self, world):
        post = Post.objects.get(topic=ask(world))
        services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=post)
        post.refresh_from_db()
        assert post.deleted_by_id == world.moderator.pk


class TestAnswers:
    def test_question_author_marks_a_reply(self, world):
        topic = ask(world)
        reply = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="Try rest")
        services.mark_answer(acting_member=world.alice, tenant=world.tenant, topic=topic, post=reply)
        assert Topic.objects.get(pk=topic.pk).answer_id == reply.pk

    def test_others_and_wrong_posts_are_refused(self, world):
        topic = ask(world)
        reply = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="Try rest")
        other_reply = services.create_reply(
            acting_member=world.bob, tenant=world.tenant, topic=ask(world, title="Other"), body="elsewhere"
        )
        with pytest.raises(NotAllowed):
            services.mark_answer(acting_member=world.bob, tenant=world.tenant, topic=topic, post=reply)
        with pytest.raises(InvalidInput):
            services.mark_answer(acting_member=world.alice, tenant=world.tenant, topic=topic, post=other_reply)
        with pytest.raises(InvalidInput):
            services.mark_answer(
                acting_member=world.alice,
                tenant=world.tenant,
                topic=topic,
                post=Post.objects.get(topic=topic, is_opening=True),
            )
        assert Topic.objects.get(pk=topic.pk).answer_id is None

    def test_updates_have_no_answers(self, world):
        topic = ask(world, kind=TopicKind.UPDATE)
        reply = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="Nice")
        with pytest.raises(InvalidInput):
            services.mark_answer(acting_member=world.alice, tenant=world.tenant, topic=topic, post=reply)
        assert Topic.objects.get(pk=topic.pk).answer_id is None


class TestTags:
    def test_propose_then_moderator_merges(self, world):
        curated = TagFactory(community=world.community, kind=TagKind.SYMPTOM, name="Fatigue", slug="fatigue")
        proposed = services.propose_tag(
            acting_member=world.alice,
            tenant=world.tenant,
            community=world.community,
            kind=TagKind.SYMPTOM,
            name="Tiredness",
        )
        assert proposed.status == TagStatus.PROPOSED and proposed.proposed_by_id == world.alice.pk
        topic = ask(world, proposed_tag_names=[])
        topic.tags.add(proposed)
        with pytest.raises(NotAllowed):
            services.merge_tags(acting_member=world.alice, tenant=world.tenant, source=proposed, target=curated)
        assert list(topic.tags.all()) == [proposed]
        services.merge_tags(acting_member=world.moderator, tenant=world.tenant, source=proposed, target=curated)
        proposed.refresh_from_db()
        assert (proposed.status, proposed.merged_into_id) == (TagStatus.MERGED, curated.pk)
        assert list(topic.tags.all()) == [curated]
        again = services.propose_tag(
            acting_member=world.bob,
            tenant=world.tenant,
            community=world.community,
            kind=TagKind.SYMPTOM,
            name="tiredness",
        )
        assert again == curated

    def test_create_tag_curates_a_proposal(self, world):
        proposed = services.propose_tag(
            acting_member=world.alice, tenant=world.tenant, community=world.community, kind=TagKind.TOPIC, name="Diet"
        )
        with pytest.raises(NotAllowed):
            services.create_tag(
                acting_member=world.alice,
                tenant=world.tenant,
                community=world.community,
                kind=TagKind.TOPIC,
                name="Diet",
            )
        tag = services.create_tag(
            acting_member=world.moderator,
            tenant=world.tenant,
            community=world.community,
            kind=TagKind.TOPIC,
            name="Diet",
        )
        assert tag.pk == proposed.pk and tag.status == TagStatus.CURATED


def test_topic_of_tenant_a_is_not_found_in_tenant_b(world, tenant_b):
    topic = ask(world)
    root = MemberFactory(is_superuser=True, is_staff=True)
    assert access_topic(member=root, tenant=world.tenant, topic_id=topic.pk) == topic
    with tenant_context(tenant_b), pytest.raises(Http404):
        access_topic(member=root, tenant=tenant_b, topic_id=topic.pk)
