"""Silence and suspension (tenant and platform-wide), the trust ladder, slow mode, recruiting posts,
edits that take a post back into the queue, and managing moderators: services, web and API."""

from __future__ import annotations

import datetime
import io
import zipfile

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from cms.wagtail_hooks import moderation_menu
from communities import moderation, safety, services
from communities.models import (
    ContentStatus,
    Flag,
    MemberRestriction,
    MemberTrust,
    ModerationAction,
    ModerationActionKind,
    ModerationSettings,
    Notification,
    Post,
    Reaction,
    ReviewItem,
    ReviewStatus,
    Topic,
    TopicKind,
    TopicRead,
    TrustLevel,
    Visibility,
)
from communities.moderation import Decision, DecisionInput
from communities.personal_data import export_member_data
from communities.tasks import evaluate_trust_levels
from core.errors import InvalidInput, NotAllowed
from members import services as member_services
from members.models import MembershipRole, PlatformSuspension, TenantMembership
from members.selectors import local_id_of
from partnerships.models import AgreementKind, StudyInvitation, StudyStatus
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import CommunityMembershipFactory, MemberFactory, TenantMembershipFactory, community_world
from tests.partnerships.helpers import make_agreement, make_partner

pytestmark = pytest.mark.django_db
HOST, HOST_B = TENANT_A["domain"], TENANT_B["domain"]
API = "/api/v1"


@pytest.fixture
def world_fields():
    return {"visibility": Visibility.OPEN, "premoderated_posts": 0}


def topic_by(world, member, title="A question about sleep", body="How do you sleep?"):
    return services.create_topic(
        acting_member=member, tenant=world.tenant, community=world.community, kind=TopicKind.QUESTION,
        title=title, body=body,
    )  # fmt: skip


def lid(world, member):
    return local_id_of(member, tenant=world.tenant)


# ---------------------------------------------------------------------------------------------
# Silence and suspension
# ---------------------------------------------------------------------------------------------


def test_silenced_member_reads_and_flags_but_cannot_post_reply_react_or_edit(world):
    topic = topic_by(world, world.bob)
    own = topic_by(world, world.alice, title="My own topic")
    moderation.restrict_member(
        acting_member=world.moderator, tenant=world.tenant, member=world.alice, kind="silenced",
        reason="Heated replies", days=3,
    )  # fmt: skip
    posts_before = Post.objects.count()
    for attempt in (
        lambda: topic_by(world, world.alice, title="Another one"),
        lambda: services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Hi"),
        lambda: services.react(member=world.alice, tenant=world.tenant, post=topic.posts.get(), kind="helpful"),
        lambda: services.edit_post(acting_member=world.alice, tenant=world.tenant, post=own.posts.get(), body="x y"),
    ):
        with pytest.raises(NotAllowed) as refused:
            attempt()
        assert refused.value.code == "member_silenced"
        assert "Heated replies" in refused.value.message and "until" in refused.value.message
    assert Post.objects.count() == posts_before and not Reaction.objects.exists()
    assert own.posts.get().body_markdown == "How do you sleep?"
    # Reporting stays open to a silenced member; their existing posts stay visible.
    moderation.flag_post(member=world.alice, tenant=world.tenant, post=topic.posts.get(), reason="spam")
    assert Topic.objects.get(pk=own.pk).status == ContentStatus.PUBLISHED
    # Logged, and the member is told the end date and the reason.
    action = ModerationAction.objects.get(kind=ModerationActionKind.MEMBER_SILENCED)
    assert (action.actor_id, action.subject_id, action.reason) == (world.moderator.pk, world.alice.pk, "Heated replies")
    notice = Notification.objects.get(recipient=world.alice, kind="moderation")
    ends = MemberRestriction.objects.get().ends_at
    assert f"{ends:%d %B %Y}" in notice.message and "Heated replies" in notice.message


def test_silence_ends_on_its_own_and_can_be_lifted(world):
    topic = topic_by(world, world.bob)
    restriction = moderation.restrict_member(
        acting_member=world.moderator, tenant=world.tenant, member=world.alice, kind="silenced", reason="Pause", days=1
    )
    MemberRestriction.objects.filter(pk=restriction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Back again")
    restriction = moderation.restrict_member(
        acting_member=world.moderator,
        tenant=world.tenant,
        member=world.alice,
        kind="suspended",
        reason="Spam",
        days=None,
    )
    with pytest.raises(NotAllowed):
        services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Again")
    moderation.lift_restriction(acting_member=world.moderator, tenant=world.tenant, restriction=restriction)
    services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Thanks")
    assert ModerationAction.objects.filter(kind=ModerationActionKind.RESTRICTION_LIFTED).count() == 1


def test_suspended_member_cannot_flag_or_join_but_keeps_data_and_export(world, tenant_a):
    topic = topic_by(world, world.bob)
    mine = topic_by(world, world.alice, title="Written before")
    moderation.restrict_member(
        acting_member=world.moderator, tenant=world.tenant, member=world.alice, kind="suspended", reason="Abuse", days=7
    )
    with pytest.raises(NotAllowed) as refused:
        moderation.flag_post(member=world.alice, tenant=world.tenant, post=topic.posts.get(), reason="spam")
    assert refused.value.code == "member_suspended"
    other = community_world(tenant=tenant_a).community
    with pytest.raises(NotAllowed):
        services.join_community(member=world.alice, tenant=world.tenant, community=other)
    assert not Flag.objects.exists()
    use_public_schema()
    alice = signed_in(HOST, world.alice)
    # Their content stays (visible to others too), they read their own notifications, and the API says why.
    assert signed_in(HOST, world.bob).get(f"/t/{mine.pk}/").status_code == 200
    page = alice.get(f"/t/{topic.pk}/").content.decode()
    assert "Your account is suspended here until" in page and "Abuse" in page and "Post reply" not in page
    assert alice.get("/notifications/").status_code == 200
    response = alice.post(f"{API}/topics/{topic.pk}/posts/", {"body": "hello"}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "member_suspended"
    # The privacy export works while suspended.
    root = signed_in("localhost", world.alice)
    assert root.post(f"{API}/privacy/exports/").status_code in (201, 202)


def test_moderators_cannot_be_restricted_and_bad_input_is_refused(world):
    for member, code in ((world.moderator, "restriction_privileged"), (world.admin, "restriction_privileged")):
        with pytest.raises(InvalidInput) as refused:
            moderation.restrict_member(
                acting_member=world.admin, tenant=world.tenant, member=member, kind="silenced", reason="No", days=1
            )
        assert refused.value.code == code
    with pytest.raises(InvalidInput):
        moderation.restrict_member(
            acting_member=world.moderator, tenant=world.tenant, member=world.alice, kind="silenced", reason="x", days=1
        )
    with pytest.raises(InvalidInput):
        moderation.restrict_member(
            acting_member=world.moderator, tenant=world.tenant, member=world.alice, kind="silenced", reason="Long",
            days=None,
        )  # fmt: skip
    with pytest.raises(NotAllowed):
        moderation.restrict_member(
            acting_member=world.bob, tenant=world.tenant, member=world.alice, kind="silenced", reason="Mean", days=1
        )
    assert not MemberRestriction.objects.exists() and not ModerationAction.objects.exists()


def test_tenant_a_moderator_cannot_silence_in_tenant_b(world, tenant_b):
    with tenant_context(tenant_b):
        other = community_world(tenant=tenant_b)
        victim_id = local_id_of(other.alice, tenant=tenant_b)
        with pytest.raises(NotAllowed):
            moderation.restrict_member(
                acting_member=world.moderator, tenant=tenant_b, member=other.alice, kind="silenced", reason="Nope",
                days=1,
            )  # fmt: skip
    use_public_schema()
    moderator_on_b = signed_in(HOST_B, world.moderator)
    body = {"member_id": victim_id, "kind": "silenced", "days": 1, "reason": "Nope"}
    assert moderator_on_b.post(
        f"{API}/moderation/restrictions/", body, content_type="application/json"
    ).status_code in (
        403,
        404,
    )
    assert moderator_on_b.get(f"/manage/members/{victim_id}/").status_code == 404
    assert moderator_on_b.post(f"/manage/members/{victim_id}/restrict/", body).status_code == 404
    # Nor can tenant B's member be named on tenant A (ids are per tenant).
    moderator_on_a = signed_in(HOST, world.moderator)
    assert (
        moderator_on_a.post(f"{API}/moderation/restrictions/", body, content_type="application/json").status_code == 404
    )
    with tenant_context(tenant_b):
        assert not MemberRestriction.objects.exists()
    with tenant_context(world.tenant):
        assert not MemberRestriction.objects.exists()


def test_restrictions_on_the_web_and_api(world):
    alice_id = lid(world, world.alice)
    use_public_schema()
    moderator = signed_in(HOST, world.moderator)
    page = moderator.get(f"/manage/members/?q={alice_id}")
    assert page.status_code == 200 and f"/manage/members/{alice_id}/" in page.content.decode()
    response = moderator.post(
        f"/manage/members/{alice_id}/restrict/", {"kind": "silenced", "days": "2", "reason": "Take a breath"}
    )
    assert response.status_code == 302
    assert "Take a breath" in moderator.get("/manage/members/").content.decode()
    listed = moderator.get(f"{API}/moderation/restrictions/").json()
    assert [(r["member"]["id"], r["kind"]) for r in listed] == [(alice_id, "silenced")]
    assert moderator.delete(f"{API}/moderation/restrictions/{listed[0]['id']}/").status_code == 200
    created = moderator.post(
        f"{API}/moderation/restrictions/",
        {"member_id": alice_id, "kind": "suspended", "reason": "Spam links"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["ends_at"] is None
    bad = moderator.post(
        f"{API}/moderation/restrictions/", {"member_id": alice_id, "kind": "banished", "reason": "x"},
        content_type="application/json",
    )  # fmt: skip
    assert bad.status_code == 400
    # Plain members see neither the page nor the API.
    bob = signed_in(HOST, world.bob)
    assert bob.get("/manage/members/").status_code == 404
    assert bob.get(f"{API}/moderation/restrictions/").status_code == 403
    with tenant_context(world.tenant):
        assert ModerationAction.objects.filter(subject=world.alice).count() == 3
    # The log page and its export show them (admins export).
    log = moderator.get("/manage/log/").content.decode()
    assert "Take a breath" in log and "Spam links" in log
    export = signed_in(HOST, world.admin).get("/manage/log/export.csv")
    assert export.status_code == 200 and "member_suspended" in export.content.decode()


def test_platform_staff_suspend_everywhere(world, tenant_b, django_capture_on_commit_callbacks):
    staff = MemberFactory(is_staff=True)
    topic = topic_by(world, world.bob)
    TenantMembershipFactory(member=world.alice, tenant=tenant_b)
    use_public_schema()
    with pytest.raises(NotAllowed):
        member_services.suspend_platform_wide(acting_member=world.moderator, member=world.alice, reason="Nope")
    client = signed_in("localhost", staff)
    url = f"{API}/staff/members/{world.alice.public_id}/suspension/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(url, {"reason": "Fraud across partners", "days": 30}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert mail.outbox and "Fraud across partners" in mail.outbox[-1].body
    with tenant_context(world.tenant):
        with pytest.raises(NotAllowed) as refused:
            services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Hi")
        assert "every community" in refused.value.message
    with tenant_context(tenant_b):
        other = community_world(tenant=tenant_b, visibility=Visibility.OPEN)
        with pytest.raises(NotAllowed):
            services.join_community(member=world.alice, tenant=tenant_b, community=other.community)
    use_public_schema()
    assert (
        signed_in("localhost", world.bob).put(url, {"reason": "x"}, content_type="application/json").status_code == 403
    )
    assert client.delete(url).status_code == 204
    assert PlatformSuspension.objects.get().lifted_at is not None
    with tenant_context(world.tenant):
        services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Back")


def test_a_member_suspended_platform_wide_still_reads_and_exports_their_data(
    world, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.KINDRED_EXPORTS_DIR = str(tmp_path / "exports")
    staff = MemberFactory(is_staff=True)
    mine = topic_by(world, world.alice, title="Written before the suspension", body="My own words about sleep")
    with django_capture_on_commit_callbacks(execute=True):
        services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=mine, body="Bob answers")
    use_public_schema()
    member_services.suspend_platform_wide(acting_member=staff, member=world.alice, reason="Fraud", days=30)
    alice = signed_in(HOST, world.alice)
    # Reading: their topic and its replies (web and API), and their notifications.
    page = alice.get(f"/t/{mine.pk}/").content.decode()
    assert "My own words about sleep" in page and "Bob answers" in page
    assert "Your account is suspended on every community of this platform until" in page and "Fraud" in page
    assert alice.get(f"{API}/topics/{mine.pk}/").status_code == 200
    assert "Bob" in alice.get("/notifications/").content.decode()
    assert [n["kind"] for n in alice.get(f"{API}/notifications/").json()["results"]] == ["reply"]
    # Taking part is refused, and says why.
    response = alice.post(f"{API}/topics/{mine.pk}/posts/", {"body": "hello"}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "member_suspended"
    # Their data: the root's "Download my data" (web) and the API both export it, their posts included.
    root = signed_in("localhost", world.alice)
    with django_capture_on_commit_callbacks(execute=True):
        created = root.post(f"{API}/privacy/exports/")
    assert created.status_code == 202, created.content
    detail = root.get(f"{API}/privacy/exports/{created.json()['id']}/").json()
    assert detail["status"] == "ready"
    download = root.get(detail["download_url"])
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        everything = "".join(archive.read(name).decode() for name in archive.namelist())
    assert "My own words about sleep" in everything
    web = root.post("/accounts/privacy/exports/")
    assert web.status_code == 302 and web["Location"].startswith("/accounts/privacy/exports/")
    assert root.get(web["Location"]).status_code == 200
    assert PlatformSuspension.objects.get(member=world.alice).lifted_at is None


# ---------------------------------------------------------------------------------------------
# Trust ladder
# ---------------------------------------------------------------------------------------------


def test_promotion_by_time_reading_posts_and_helpful_reactions(world):
    ModerationSettings.objects.create(
        trust_requirements={
            "member": {"days": 0, "posts_read": 2, "posts": 1, "helpful": 0},
            "trusted": {"days": 0, "posts_read": 2, "posts": 2, "helpful": 1},
            "leader": {"days": 30, "posts_read": 2, "posts": 2, "helpful": 1},
        }
    )
    assert safety.trust_level(member=world.alice) == TrustLevel.NEW
    topic = topic_by(world, world.bob)
    services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="More")
    safety.record_reading(member=world.alice, topic=topic, posts_seen=2)
    safety.record_reading(member=world.alice, topic=topic, posts_seen=2)  # nothing new: counted once
    assert MemberTrust.objects.get(member=world.alice).posts_read == 2
    first = services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Hello")
    assert safety.trust_level(member=world.alice) == TrustLevel.MEMBER
    services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Again")
    services.react(member=world.bob, tenant=world.tenant, post=first, kind="helpful")
    assert safety.trust_level(member=world.alice) == TrustLevel.TRUSTED
    # Leader needs 30 days here: the daily run promotes her once they have passed.
    TenantMembership.objects.filter(member=world.alice).update(joined_at=timezone.now() - datetime.timedelta(days=31))
    assert safety.evaluate_all_trust(tenant=world.tenant) >= 5
    assert safety.trust_level(member=world.alice) == TrustLevel.LEADER
    assert ModerationAction.objects.filter(kind=ModerationActionKind.TRUST_AUTOMATIC, subject=world.alice).count() == 3


def test_upheld_flags_demote_and_moderators_lock_a_level(world):
    ModerationSettings.objects.create(
        demote_after_upheld_flags=1,
        trust_requirements={"member": {"days": 0, "posts_read": 0, "posts": 0, "helpful": 0}},
    )
    topic = topic_by(world, world.alice)
    assert safety.trust_level(member=world.alice) == TrustLevel.MEMBER
    moderation.flag_post(member=world.bob, tenant=world.tenant, post=topic.posts.get(), reason="misinformation")
    item = ReviewItem.objects.get(status=ReviewStatus.OPEN)
    moderation.decide(
        acting_member=world.moderator, tenant=world.tenant, item=item,
        choice=DecisionInput(decision=Decision.HIDE, reason="Dangerous dosing advice"),
    )  # fmt: skip
    assert safety.trust_level(member=world.alice) == TrustLevel.NEW
    moderation.set_trust_level(
        acting_member=world.moderator, tenant=world.tenant, member=world.alice, level="trusted", reason="Known expert"
    )
    assert safety.evaluate_trust(member=world.alice, tenant=world.tenant) == TrustLevel.TRUSTED  # locked
    with pytest.raises(NotAllowed):
        moderation.set_trust_level(acting_member=world.bob, tenant=world.tenant, member=world.alice, level="leader")
    moderation.set_trust_level(
        acting_member=world.moderator, tenant=world.tenant, member=world.alice, level="trusted", locked=False
    )
    assert safety.trust_level(member=world.alice) == TrustLevel.NEW  # the rules decide again


def test_trusted_skip_premoderation_and_their_flags_weigh_more_leaders_hide_at_once(world):
    world.community.premoderated_posts = 2
    world.community.save()
    MemberTrust.objects.create(member=world.alice, level=TrustLevel.TRUSTED, locked=True)
    MemberTrust.objects.create(member=world.bob, level=TrustLevel.LEADER, locked=True)
    assert topic_by(world, world.alice).status == ContentStatus.PUBLISHED
    spam = topic_by(world, world.alice, title="Buy now").posts.get()
    threshold = 3
    # A trusted member's flag weighs 2 (threshold 3): not hidden yet.
    trusted_flag = moderation.flag_post(
        member=world.alice, tenant=world.tenant, post=topic_by(world, world.bob, title="Hmm").posts.get(), reason="spam"
    )
    assert trusted_flag.weight == 2 and Post.objects.get(pk=trusted_flag.post_id).status == ContentStatus.PUBLISHED
    # A leader's flag hides the post at once, pending a moderator's review.
    leader_flag = moderation.flag_post(member=world.bob, tenant=world.tenant, post=spam, reason="spam")
    assert leader_flag.weight == threshold
    assert Post.objects.get(pk=spam.pk).status == ContentStatus.HIDDEN
    assert ReviewItem.objects.filter(post=spam, status=ReviewStatus.OPEN).exists()


def test_new_member_limits_are_clear(world, settings):
    settings.KINDRED_NEW_MEMBER_LIMITS = True
    ModerationSettings.objects.create(new_members_may_link=True, new_max_links=1, new_topics_per_day=2)
    with pytest.raises(InvalidInput) as refused:
        topic_by(world, world.alice, body="See https://a.example and https://b.example")
    assert refused.value.code == "new_member_links" and "at most 1 links" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        topic_by(world, world.alice, body="Look ![chart](https://a.example/x.png)")
    assert refused.value.code == "new_member_images"
    with pytest.raises(InvalidInput) as refused:
        topic_by(world, world.alice, body="@Bob @Carol @Admin what do you think?")
    assert refused.value.code == "new_member_mentions"
    topic_by(world, world.alice, title="One")
    topic_by(world, world.alice, title="Two")
    with pytest.raises(safety.NewMemberTopicLimit) as limited:
        topic_by(world, world.alice, title="Three")
    assert limited.value.http_status == 429 and "2 topics a day" in limited.value.message
    # Trusted members and moderators have no such limits.
    MemberTrust.objects.update_or_create(member=world.alice, defaults={"level": TrustLevel.MEMBER, "locked": True})
    topic_by(world, world.alice, title="Three", body="@Bob @Carol @Admin ![x](https://a.example/x.png)")
    assert Topic.objects.filter(author=world.alice).count() == 3


def test_trust_api_and_web(world):
    alice_id = lid(world, world.alice)
    use_public_schema()
    moderator = signed_in(HOST, world.moderator)
    got = moderator.get(f"{API}/moderation/members/{alice_id}/trust/").json()
    assert (got["level"], got["locked"]) == ("new", False)
    put = moderator.put(
        f"{API}/moderation/members/{alice_id}/trust/", {"level": "leader", "reason": "Runs the group"},
        content_type="application/json",
    )  # fmt: skip
    assert put.status_code == 200 and (put.json()["level"], put.json()["locked"]) == ("leader", True)
    assert moderator.post(f"/manage/members/{alice_id}/trust/", {"level": "trusted", "locked": "on"}).status_code == 302
    assert "Trusted" in moderator.get(f"/manage/members/{alice_id}/").content.decode()
    assert signed_in(HOST, world.bob).get(f"{API}/moderation/members/{alice_id}/trust/").status_code == 403
    with tenant_context(world.tenant):
        assert MemberTrust.objects.get(member=world.alice).level == TrustLevel.TRUSTED


def test_topic_page_counts_posts_read(world):
    topic = topic_by(world, world.bob)
    services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="One more")
    use_public_schema()
    signed_in(HOST, world.alice).get(f"/t/{topic.pk}/")
    with tenant_context(world.tenant):
        assert TopicRead.objects.get(member=world.alice, topic=topic).posts_seen == 2
        assert MemberTrust.objects.get(member=world.alice).posts_read == 2


# ---------------------------------------------------------------------------------------------
# Slow mode
# ---------------------------------------------------------------------------------------------


def test_slow_mode_one_post_per_member_with_the_wait(world):
    CommunityMembershipFactory(community=world.community, member=world.moderator)
    topic = topic_by(world, world.moderator)
    with pytest.raises(NotAllowed):
        moderation.set_slow_mode(acting_member=world.alice, tenant=world.tenant, topic=topic, minutes=10)
    moderation.set_slow_mode(acting_member=world.moderator, tenant=world.tenant, topic=topic, minutes=10, reason="Hot")
    services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="First")
    with pytest.raises(safety.SlowModeActive) as waiting:
        services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Second")
    assert (
        "one post every 10 minutes" in waiting.value.message
        and "You can post here again in 10 min" in waiting.value.message
    )
    services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="Someone else may")
    services.create_reply(acting_member=world.moderator, tenant=world.tenant, topic=topic, body="Mods are exempt")
    services.create_reply(acting_member=world.moderator, tenant=world.tenant, topic=topic, body="Still exempt")
    Post.objects.filter(author=world.alice).update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Later")
    assert ModerationAction.objects.filter(kind=ModerationActionKind.SLOW_MODE, topic_id_ref=topic.pk).count() == 1


def test_slow_mode_web_and_api(world):
    topic = topic_by(world, world.bob)
    use_public_schema()
    moderator = signed_in(HOST, world.moderator)
    response = moderator.put(f"{API}/topics/{topic.pk}/slow-mode/", {"minutes": 5}, content_type="application/json")
    assert response.status_code == 200 and response.json()["minutes"] == 5
    assert (
        moderator.put(
            f"{API}/topics/{topic.pk}/slow-mode/", {"minutes": -1}, content_type="application/json"
        ).status_code
        == 400
    )
    alice = signed_in(HOST, world.alice)
    assert (
        alice.post(f"{API}/topics/{topic.pk}/posts/", {"body": "one"}, content_type="application/json").status_code
        == 201
    )
    second = alice.post(f"{API}/topics/{topic.pk}/posts/", {"body": "two"}, content_type="application/json")
    assert second.status_code == 429 and second.json()["code"] == "slow_mode"
    page = alice.post(f"/t/{topic.pk}/reply/", {"body": "three"})
    assert page.status_code == 429 and "Slow mode is on" in page.content.decode()
    assert moderator.post(f"/manage/topics/{topic.pk}/slow-mode/", {"minutes": "0"}).status_code == 302
    assert "slow-mode-form" in moderator.get(f"/t/{topic.pk}/").content.decode()
    assert (
        alice.put(f"{API}/topics/{topic.pk}/slow-mode/", {"minutes": 1}, content_type="application/json").status_code
        == 403
    )
    with tenant_context(world.tenant):
        assert Topic.objects.get(pk=topic.pk).slow_mode_minutes == 0


# ---------------------------------------------------------------------------------------------
# Recruiting and edits back into the queue
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Participants needed for a paid study on fatigue, DM me",
        "Please take our survey: it only takes 5 minutes",
        "Fill in the form at forms.gle/abc123 please",
        "We are looking for volunteers... recruiting for a study of new apps",
    ],
)
def test_recruiting_posts_are_held(world, body):
    topic = topic_by(world, world.alice, title="Quick request", body=body)
    assert topic.status == ContentStatus.HELD
    item = ReviewItem.objects.get(post__topic=topic, status=ReviewStatus.OPEN)
    assert item.held and "recruiting" in item.reasons


def test_ordinary_posts_and_approved_study_links_are_not_held(world, tenant_b):
    assert topic_by(world, world.alice, body="My study of French is going well").status == ContentStatus.PUBLISHED
    agreement = make_agreement(partner=make_partner(name="North Lab", kind="research"), kind=AgreementKind.RESEARCH)
    study = {"agreement": agreement, "title": "Fatigue study", "summary": "s", "eligibility": "e", "contact": "c",
             "ethics_approval_ref": "IRB-1"}  # fmt: skip
    sent_here = StudyInvitation.objects.create(tenant=world.tenant, status=StudyStatus.SENT, **study)
    waiting_here = StudyInvitation.objects.create(tenant=world.tenant, status=StudyStatus.SUBMITTED, **study)
    sent_elsewhere = StudyInvitation.objects.create(tenant=tenant_b, status=StudyStatus.SENT, **study)
    body = "Participants needed for a paid study, see /studies/#study-{}"
    # A link to this tenant's approved, labelled invitation: recruiting allowed.
    approved = topic_by(world, world.alice, title="Study", body=body.format(sent_here.public_id))
    assert approved.status == ContentStatus.PUBLISHED
    # Not yet approved, or another tenant's: held like any other recruiting.
    for invitation in (waiting_here, sent_elsewhere):
        held = topic_by(world, world.alice, title="Study again", body=body.format(invitation.public_id))
        assert held.status == ContentStatus.HELD
    # Moderators (the partner's staff) are not screened for recruiting.
    CommunityMembershipFactory(community=world.community, member=world.moderator)
    assert topic_by(world, world.moderator, body="Take our survey!").status == ContentStatus.PUBLISHED


def test_an_edit_with_a_hold_word_or_recruiting_goes_back_to_the_queue(world):
    moderation.add_watched_word(acting_member=world.moderator, tenant=world.tenant, pattern="miracle", action="hold")
    topic = topic_by(world, world.alice, title="Sleep", body="Magnesium helps me")
    reply = services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Also walks")
    services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body="Thanks!")
    topic.refresh_from_db()
    assert topic.reply_count == 2
    services.edit_post(acting_member=world.alice, tenant=world.tenant, post=reply, body="A miracle cure, honestly")
    reply.refresh_from_db()
    topic.refresh_from_db()
    assert reply.status == ContentStatus.HELD and topic.reply_count == 1
    assert ReviewItem.objects.get(post=reply, status=ReviewStatus.OPEN).held
    opening = topic.posts.get(is_opening=True)
    services.edit_post(
        acting_member=world.alice, tenant=world.tenant, post=opening, body="Take our survey at surveymonkey.com/r/x"
    )
    topic.refresh_from_db()
    assert topic.status == ContentStatus.HELD
    item = ReviewItem.objects.get(post=opening, status=ReviewStatus.OPEN)
    assert "recruiting" in item.reasons
    use_public_schema()
    bob = signed_in(HOST, world.bob)
    assert bob.get(f"/t/{topic.pk}/").status_code == 404
    assert bob.get(f"{API}/topics/{topic.pk}/").status_code == 404
    assert topic.pk not in [i["topic"]["id"] for i in bob.get(f"{API}/feed/").json()["results"]]
    assert bob.get(f"{API}/search/topics/?q=sleep").json() == []
    assert signed_in(HOST, world.alice).get(f"/t/{topic.pk}/").status_code == 200
    with tenant_context(world.tenant):
        moderation.decide(
            acting_member=world.moderator,
            tenant=world.tenant,
            item=item,
            choice=DecisionInput(decision=Decision.APPROVE),
        )
    assert bob.get(f"/t/{topic.pk}/").status_code == 200


# ---------------------------------------------------------------------------------------------
# Moderators (tenant admins) and the Wagtail admin's links
# ---------------------------------------------------------------------------------------------


def test_admins_add_and_remove_moderators_on_web_and_api(world):
    alice_id, bob_id = lid(world, world.alice), lid(world, world.bob)
    use_public_schema()
    admin = signed_in(HOST, world.admin)
    assert admin.post("/manage/moderators/", {"member_id": alice_id, "reason": "Helps a lot"}).status_code == 302
    page = admin.get("/manage/moderators/").content.decode()
    assert "Alice" in page and f"/manage/moderators/{alice_id}/remove/" in page
    added = admin.post(f"{API}/moderation/moderators/", {"member_id": bob_id}, content_type="application/json")
    assert added.status_code == 201 and bob_id in [row["member"]["id"] for row in added.json()]
    assert admin.delete(f"{API}/moderation/moderators/{bob_id}/").status_code == 204
    assert admin.post(f"/manage/moderators/{alice_id}/remove/").status_code == 302
    # Moderators don't manage moderators; nobody can name a member of another tenant.
    moderator = signed_in(HOST, world.moderator)
    assert moderator.get("/manage/moderators/").status_code == 404
    assert (
        moderator.post(
            f"{API}/moderation/moderators/", {"member_id": bob_id}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        admin.post(
            f"{API}/moderation/moderators/", {"member_id": "nobody"}, content_type="application/json"
        ).status_code
        == 404
    )
    with tenant_context(world.tenant):
        roles = dict(TenantMembership.objects.filter(tenant=world.tenant).values_list("member_id", "role"))
        assert roles[world.alice.pk] == roles[world.bob.pk] == MembershipRole.MEMBER
        assert ModerationAction.objects.filter(kind=ModerationActionKind.ROLE_CHANGED).count() == 4


def test_wagtail_admin_links_to_the_moderation_pages(world, tenant_b, rf):
    menu = moderation_menu()
    items = menu.menu.initial_menu_items

    def shown(member, tenant):
        request = rf.get("/admin/")
        request.user, request.tenant = member, tenant
        return [item.url for item in items if item.is_shown(request)]

    assert shown(world.moderator, world.tenant) == [
        "/manage/queue/", "/manage/log/", "/manage/words/", "/manage/crisis/", "/manage/members/", "/manage/trust/",
        "/manage/",
    ]  # fmt: skip
    assert "/manage/moderators/" in shown(world.admin, world.tenant)
    assert shown(world.bob, world.tenant) == []
    assert shown(world.moderator, tenant_b) == []  # another tenant's admin shows none of them


def test_anonymous_and_connection_sanity(world):
    assert connection.schema_name == world.tenant.schema_name
    use_public_schema()
    assert host_client(HOST).get("/manage/members/").status_code == 302


def test_trust_ladder_settings_service_web_and_api(world):
    with pytest.raises(InvalidInput) as refused:
        moderation.update_trust_settings(
            acting_member=world.moderator, tenant=world.tenant,
            requirements={"member": {"days": 30}, "trusted": {"days": 5}},
        )  # fmt: skip
    assert "at least what a member needs" in refused.value.message
    with pytest.raises(InvalidInput):
        moderation.update_trust_settings(acting_member=world.moderator, tenant=world.tenant, trusted_flag_weight=0)
    with pytest.raises(NotAllowed):
        moderation.update_trust_settings(acting_member=world.alice, tenant=world.tenant, new_max_links=5)
    assert not ModerationSettings.objects.exists()
    use_public_schema()
    moderator = signed_in(HOST, world.moderator)
    page = moderator.get("/manage/trust/")
    assert page.status_code == 200 and 'name="trusted__helpful"' in page.content.decode()
    form = {f"{level}__{key}": value for level, value in (("member", 1), ("trusted", 5), ("leader", 9))
            for key in ("days", "posts_read", "posts", "helpful")}  # fmt: skip
    form.update(new_max_links=4, new_max_images=1, new_max_mentions=3, new_topics_per_day=5, trusted_flag_weight=2,
                demote_after_upheld_flags=3)  # fmt: skip
    assert moderator.post("/manage/trust/", form).status_code == 302
    assert moderator.post("/manage/trust/", {**form, "leader__days": 0}).status_code == 400
    settings_url = f"{API}/moderation/settings/"
    got = moderator.get(settings_url).json()
    assert got["trust_requirements"]["trusted"] == {"days": 5, "posts_read": 5, "posts": 5, "helpful": 5}
    assert got["new_max_links"] == 4
    put = moderator.put(
        settings_url, {"flag_threshold": 4, "trust_requirements": {"leader": {"helpful": 50}}, "new_max_links": 0},
        content_type="application/json",
    )  # fmt: skip
    assert put.status_code == 200, put.content
    assert put.json()["trust_requirements"]["leader"] == {"days": 9, "posts_read": 9, "posts": 9, "helpful": 50}
    bad = moderator.put(
        settings_url, {"flag_threshold": 5, "trust_requirements": {"member": {"days": 99}}},
        content_type="application/json",
    )  # fmt: skip
    assert bad.status_code == 400
    assert moderator.put(settings_url, {"flag_threshold": 2}, content_type="application/json").status_code == 200
    assert signed_in(HOST, world.bob).get("/manage/trust/").status_code == 404
    with tenant_context(world.tenant):
        row = ModerationSettings.objects.get()
        assert (row.flag_threshold, row.new_max_links, row.new_max_images) == (2, 0, 1)
        assert ModerationAction.objects.filter(summary="Changed the trust ladder settings").count() == 2


def test_platform_staff_suspend_in_the_root_admin(world):
    staff = MemberFactory(is_staff=True, is_superuser=True)
    use_public_schema()
    admin = signed_in("localhost", staff)
    url = "/admin/members/platformsuspension/add/"
    assert admin.get(url).status_code == 200
    refused = admin.post(url, {"member": staff.pk, "reason": "Testing", "days": ""})
    assert refused.status_code == 200 and "suspend yourself" in refused.content.decode()
    assert not PlatformSuspension.objects.exists()
    saved = admin.post(url, {"member": world.alice.pk, "reason": "Spam on many partners", "days": "10"})
    assert saved.status_code == 302
    suspension = PlatformSuspension.objects.get()
    assert (suspension.member_id, suspension.created_by_id) == (world.alice.pk, staff.pk)
    assert suspension.ends_at is not None and suspension.ends_at > timezone.now() + datetime.timedelta(days=9)
    # Rows are the record: no change or delete in the admin, only the "lift" action.
    assert admin.post(f"/admin/members/platformsuspension/{suspension.pk}/delete/", {"post": "yes"}).status_code == 403
    admin.post("/admin/members/platformsuspension/", {"action": "lift", "_selected_action": [suspension.pk]})
    suspension.refresh_from_db()
    assert suspension.lifted_at is not None and suspension.lifted_by_id == staff.pk


def test_the_daily_beat_task_evaluates_every_partner(world, tenant_b, settings):
    assert settings.CELERY_BEAT_SCHEDULE["evaluate-trust-levels"]["task"] == "communities.tasks.evaluate_trust_levels"
    ModerationSettings.objects.create(
        trust_requirements={"member": {"days": 0, "posts_read": 0, "posts": 0, "helpful": 0}}
    )
    use_public_schema()
    counts = evaluate_trust_levels()
    assert counts[world.tenant.schema_name] >= 5 and tenant_b.schema_name in counts
    with tenant_context(world.tenant):
        assert safety.trust_level(member=world.alice) == TrustLevel.MEMBER
        # Running it again changes nothing and logs nothing new.
        logged = ModerationAction.objects.filter(kind=ModerationActionKind.TRUST_AUTOMATIC).count()
    use_public_schema()
    evaluate_trust_levels()
    with tenant_context(world.tenant):
        assert ModerationAction.objects.filter(kind=ModerationActionKind.TRUST_AUTOMATIC).count() == logged


def test_the_tenants_wagtail_admin_renders_the_moderation_menu(world):
    superuser = MemberFactory(is_staff=True, is_superuser=True)
    use_public_schema()
    page = signed_in(HOST, superuser).get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Moderation" in html and "/manage/queue/" in html and "/manage/moderators/" in html


def test_restrictions_and_trust_join_the_members_data_export(world):
    moderation.restrict_member(
        acting_member=world.moderator, tenant=world.tenant, member=world.alice, kind="silenced", reason="Pause", days=2
    )
    MemberTrust.objects.update_or_create(member=world.alice, defaults={"level": TrustLevel.TRUSTED, "locked": True})
    data = export_member_data(world.alice)
    assert [(r["kind"], r["reason"]) for r in data["silences_and_suspensions"]] == [("silenced", "Pause")]
    assert data["trust_level"] == [{"level": "Trusted", "set_by_a_moderator": True, "posts_read": 0}]
