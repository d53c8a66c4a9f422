"""Flags and the review queue: members report posts, flags add up and hide, moderators decide, every
decision reaches the author and the flaggers and the log, and a tenant's queue is its own."""

from __future__ import annotations

import csv
import io

import pytest
from django_tenants.utils import tenant_context

from communities import moderation, services
from communities.models import (
    ContentStatus,
    Flag,
    FlagReason,
    ModerationAction,
    ModerationActionKind,
    Notification,
    NotificationKind,
    Post,
    ReviewItem,
    ReviewStatus,
    RiskLevel,
    Topic,
    TopicKind,
    Visibility,
)
from communities.moderation import Decision, DecisionInput
from communities.selectors import review_queue, search_topics, topic_posts
from core.errors import Conflict, InvalidInput, NotAllowed
from members.models import MembershipRole
from tenants.db import use_public_schema
from tests.communities.worlds import community_member, reply_to, start_topic
from tests.conftest import TENANT_A, TENANT_B, signed_in
from tests.factories import CommunityFactory, CommunityMembershipFactory, TenantMembershipFactory
from tests.factories import community_world as make_world

pytestmark = pytest.mark.django_db
HOST = TENANT_A["domain"]
API = "/api/v1"
JSON = "application/json"


@pytest.fixture
def world(world):
    w = world
    w.others = [community_member(w, display_name=f"Flagger {number}") for number in range(3)]
    w.topic = start_topic(w, title="Cold hands in winter", body="Gloves help a bit.")
    w.reply = reply_to(w, w.topic, body="Buy my miracle cure at example.com")
    return w


def flag(world, member, post=None, reason=FlagReason.SPAM, text=""):
    return moderation.flag_post(member=member, tenant=world.tenant, post=post or world.reply, reason=reason, text=text)


def item_of(post) -> ReviewItem:
    return ReviewItem.objects.get(post=post, status=ReviewStatus.OPEN)


def decide(world, post, decision, **fields):
    return moderation.decide(
        acting_member=world.moderator,
        tenant=world.tenant,
        item=item_of(post),
        choice=DecisionInput(decision=decision, **fields),
    )


# --- flags -----------------------------------------------------------------------------------------


def test_a_member_flags_once_and_flags_add_up_until_the_post_hides(world):
    first = flag(world, world.others[0], text="  selling  things ")
    assert (first.reason, first.text, first.weight) == (FlagReason.SPAM, "selling things", 1)
    with pytest.raises(Conflict) as refused:
        flag(world, world.others[0], reason=FlagReason.OFF_TOPIC)
    assert refused.value.code == "already_flagged"
    assert Flag.objects.filter(post=world.reply).count() == 1
    flag(world, world.others[1], reason=FlagReason.MISINFORMATION)
    world.reply.refresh_from_db()
    assert (world.reply.flag_weight, world.reply.status) == (2, ContentStatus.PUBLISHED)
    flag(world, world.others[2])
    world.reply.refresh_from_db()
    assert (world.reply.flag_weight, world.reply.status) == (3, ContentStatus.HIDDEN)
    item = item_of(world.reply)
    assert sorted(item.reasons) == [FlagReason.MISINFORMATION, FlagReason.SPAM]
    hidden = ModerationAction.objects.get(kind=ModerationActionKind.AUTO_HIDDEN)
    assert (hidden.actor_id, hidden.subject_id, hidden.before_text) == (None, world.bob.pk, world.reply.body_markdown)
    # The author learns it is hidden; the hidden reply no longer counts as a visible reply.
    assert (
        "hidden until a moderator reviews it" in Notification.objects.get(recipient=world.bob, post=world.reply).message
    )
    assert Topic.objects.get(pk=world.topic.pk).reply_count == 0


def test_threshold_is_configurable_and_a_moderators_flag_hides_at_once(world):
    moderation.update_moderation_settings(acting_member=world.moderator, tenant=world.tenant, flag_threshold=1)
    flag(world, world.others[0])
    world.reply.refresh_from_db()
    assert world.reply.status == ContentStatus.HIDDEN
    with pytest.raises(NotAllowed):
        moderation.update_moderation_settings(acting_member=world.alice, tenant=world.tenant, flag_threshold=9)
    moderation.update_moderation_settings(acting_member=world.moderator, tenant=world.tenant, flag_threshold=5)
    opening = world.topic.posts.get(is_opening=True)
    moderator_flag = flag(world, world.moderator, post=opening, reason=FlagReason.OFF_TOPIC)
    opening.refresh_from_db()
    assert (moderator_flag.weight, opening.status) == (5, ContentStatus.HIDDEN)
    assert Topic.objects.get(pk=world.topic.pk).status == ContentStatus.HIDDEN


@pytest.mark.parametrize(
    ("who", "reason", "text", "error", "code"),
    [
        ("bob", FlagReason.SPAM, "", InvalidInput, "flag_own_post"),
        ("alice", "rude", "", InvalidInput, "flag_reason_invalid"),
        ("alice", FlagReason.OTHER, " ", InvalidInput, "flag_text_required"),
        ("stranger", FlagReason.SPAM, "", services.CommunityNotFound, "not_found"),
        ("carol", FlagReason.SPAM, "", services.CommunityNotFound, "not_found"),  # members-only, not a member
    ],
)
def test_refused_flags_change_nothing(world, who, reason, text, error, code):
    with pytest.raises(error) as refused:
        flag(world, getattr(world, who), reason=reason, text=text)
    assert refused.value.code == code
    world.reply.refresh_from_db()
    assert (Flag.objects.count(), ReviewItem.objects.count(), world.reply.flag_weight) == (0, 0, 0)


def test_other_needs_words_and_urgent_goes_first(world):
    flag(world, world.others[0], reason=FlagReason.OTHER, text="Feels like a scam")
    opening = world.topic.posts.get(is_opening=True)
    flag(world, world.others[1], post=opening, reason=FlagReason.URGENT_RISK, text="She says she wants to end it")
    queue = review_queue(member=world.moderator, tenant=world.tenant)
    # Urgent first although it came second (one urgent report, no crisis words: medium); then oldest first.
    assert [(item.post_id, item.risk) for item in queue] == [(opening.pk, RiskLevel.MEDIUM), (world.reply.pk, 0)]
    assert review_queue(member=world.alice, tenant=world.tenant) == []


# --- hidden posts are visible to their author and moderators only --------------------------------------


def test_hidden_post_is_seen_by_its_author_and_moderators_only_web_and_api(world):
    moderation.update_moderation_settings(acting_member=world.moderator, tenant=world.tenant, flag_threshold=1)
    flag(world, world.others[0])

    def ids(member):
        return [view.post.pk for view in topic_posts(member=member, tenant=world.tenant, topic=world.topic)]

    assert world.reply.pk not in ids(world.alice)
    assert world.reply.pk in ids(world.bob) and world.reply.pk in ids(world.moderator)
    use_public_schema()
    text = "miracle cure"
    assert text not in signed_in(HOST, world.alice).get(f"/t/{world.topic.pk}/").content.decode()
    author_page = signed_in(HOST, world.bob).get(f"/t/{world.topic.pk}/").content.decode()
    assert text in author_page and "Only its author and the moderators can see this post" in author_page
    assert text in signed_in(HOST, world.moderator).get(f"/t/{world.topic.pk}/").content.decode()
    api_posts = signed_in(HOST, world.alice).get(f"{API}/topics/{world.topic.pk}/").json()["posts"]
    assert world.reply.pk not in [post["id"] for post in api_posts]
    bob_posts = signed_in(HOST, world.bob).get(f"{API}/topics/{world.topic.pk}/").json()["posts"]
    assert [p["status"] for p in bob_posts if p["id"] == world.reply.pk] == [ContentStatus.HIDDEN]
    # Nobody else can act on it either: reacting, reporting, quoting it reveal nothing.
    alice = signed_in(HOST, world.alice)
    assert alice.post(f"{API}/posts/{world.reply.pk}/flags/", {"reason": "spam"}, content_type=JSON).status_code == 404
    assert alice.get(f"/t/{world.topic.pk}/p/{world.reply.pk}/report/").status_code == 404


def test_hidden_topic_disappears_from_lists_search_and_feed(world):
    opening = world.topic.posts.get(is_opening=True)
    flag(world, world.moderator, post=opening, reason=FlagReason.MISINFORMATION)
    assert search_topics(member=world.bob, tenant=world.tenant, query="gloves") == []
    assert [t.pk for t in search_topics(member=world.alice, tenant=world.tenant, query="gloves")] == [world.topic.pk]
    use_public_schema()
    bob = signed_in(HOST, world.bob)
    assert bob.get(f"/t/{world.topic.pk}/").status_code == 404
    assert bob.get(f"{API}/topics/{world.topic.pk}/").status_code == 404
    assert "Cold hands" not in bob.get(f"/c/{world.community.slug}/").content.decode()
    assert "Cold hands" not in bob.get("/").content.decode()
    assert world.topic.pk not in [item["topic"]["id"] for item in bob.get(f"{API}/feed/").json()["results"]]
    assert bob.get(f"{API}/search/topics/?q=gloves").json() == []
    assert "Cold hands" in signed_in(HOST, world.alice).get(f"/c/{world.community.slug}/").content.decode()


# --- decisions ---------------------------------------------------------------------------------------


def test_hide_tells_the_author_why_and_the_flaggers_what_happened(world):
    flag(world, world.others[0])
    flag(world, world.others[1], reason=FlagReason.MISINFORMATION)
    with pytest.raises(InvalidInput) as refused:
        decide(world, world.reply, Decision.HIDE, reason=" ")
    assert refused.value.code == "reason_required"
    decide(world, world.reply, Decision.HIDE, reason="Advertising is not allowed here")
    world.reply.refresh_from_db()
    assert (world.reply.status, world.reply.hidden_reason) == (ContentStatus.HIDDEN, "Advertising is not allowed here")
    author_note = Notification.objects.get(recipient=world.bob, post=world.reply)
    assert author_note.message.endswith("Reason: Advertising is not allowed here")
    for flagger in world.others[:2]:
        note = Notification.objects.get(recipient=flagger, post=world.reply, kind=NotificationKind.MODERATION)
        assert note.message.startswith("A moderator reviewed a post you reported")
    action = ModerationAction.objects.get(kind=ModerationActionKind.POST_HIDDEN)
    assert (action.actor_id, action.reason, action.before_text) == (
        world.moderator.pk,
        "Advertising is not allowed here",
        "Buy my miracle cure at example.com",
    )
    assert not ReviewItem.objects.filter(status=ReviewStatus.OPEN).exists()
    with pytest.raises(ReviewItem.DoesNotExist):
        item_of(world.reply)


def test_edit_keeps_before_and_after_text_in_the_log(world):
    flag(world, world.others[0])
    decide(world, world.reply, Decision.EDIT, reason="Removed the advert", body="Warm water helps me.")
    world.reply.refresh_from_db()
    assert world.reply.body_markdown == "Warm water helps me." and world.reply.status == ContentStatus.PUBLISHED
    action = ModerationAction.objects.get(kind=ModerationActionKind.POST_EDITED)
    assert (action.before_text, action.after_text, action.reason) == (
        "Buy my miracle cure at example.com",
        "Warm water helps me.",
        "Removed the advert",
    )
    assert world.reply.revisions.get().body_markdown == "Buy my miracle cure at example.com"


def test_move_lock_misinformation_and_escalate(world):
    other = CommunityFactory(name="Off topic corner", slug="off-topic-corner")
    CommunityMembershipFactory(community=other, member=world.alice)
    opening = world.topic.posts.get(is_opening=True)
    flag(world, world.others[0], post=opening, reason=FlagReason.OFF_TOPIC)
    decide(world, opening, Decision.MOVE, community=other)
    assert Topic.objects.get(pk=world.topic.pk).community_id == other.pk

    flag(world, world.others[1], post=opening, reason=FlagReason.HARASSMENT)
    decide(world, opening, Decision.LOCK, reason="Heated")
    assert Topic.objects.get(pk=world.topic.pk).locked_at is not None
    topic = Topic.objects.get(pk=world.topic.pk)
    with pytest.raises(NotAllowed) as locked:
        services.create_reply(acting_member=world.alice, tenant=world.tenant, topic=topic, body="Me again")
    assert locked.value.code == "topic_locked"

    flag(world, world.others[2], reason=FlagReason.MISINFORMATION)
    with pytest.raises(InvalidInput) as bad_link:
        decide(world, world.reply, Decision.MISINFORMATION, reason="Not a cure", link="javascript:alert(1)")
    assert bad_link.value.code == "link_invalid"
    decide(
        world, world.reply, Decision.MISINFORMATION, reason="There is no cure", link="https://www.nhs.uk/conditions/"
    )
    world.reply.refresh_from_db()
    assert (world.reply.misinformation_note, world.reply.misinformation_url) == (
        "There is no cure",
        "https://www.nhs.uk/conditions/",
    )

    flag(world, world.alice, reason=FlagReason.OTHER, text="Still selling")
    decide(world, world.reply, Decision.ESCALATE, reason="Repeat offender: ban?")
    item = item_of(world.reply)  # escalating keeps it open, on top of equal-risk items
    assert item.escalated
    assert "Repeat offender" in Notification.objects.get(recipient=world.admin, post=world.reply).message
    kinds = list(ModerationAction.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == [
        ModerationActionKind.TOPIC_MOVED,
        ModerationActionKind.TOPIC_LOCKED,
        ModerationActionKind.MISINFORMATION,
        ModerationActionKind.ESCALATED,
    ]
    use_public_schema()
    page = signed_in(HOST, world.alice).get(f"/t/{world.topic.pk}/").content.decode()
    assert "There is no cure" in page and 'href="https://www.nhs.uk/conditions/"' in page
    assert "a moderator closed this topic" in page


def test_escalation_tells_the_author_in_neutral_words_and_the_flaggers_and_the_admins(world):
    flag(world, world.others[0], reason=FlagReason.HARASSMENT)
    decide(world, world.reply, Decision.ESCALATE, reason="Repeat offender: ban?")

    def notice(member):
        return Notification.objects.get(recipient=member, post=world.reply, kind=NotificationKind.MODERATION)

    author_notice = notice(world.bob)
    assert author_notice.message == (
        "Your post in “Cold hands in winter” is being reviewed by the community's administrators. "
        "You'll hear when they decide."
    )
    assert "Repeat offender" not in author_notice.message  # the reason is for the administrators
    assert author_notice.actor_id == world.moderator.pk
    assert "escalated post" in notice(world.others[0]).message
    assert "Repeat offender" in notice(world.admin).message
    assert not Notification.objects.filter(recipient=world.moderator, post=world.reply).exists()
    # The administrators' decision replaces the author's notice (one per person per post).
    moderation.decide(
        acting_member=world.admin, tenant=world.tenant, item=item_of(world.reply),
        choice=DecisionInput(decision=Decision.HIDE, reason="Harassing other members"),
    )  # fmt: skip
    assert notice(world.bob).message == (
        "A moderator hid your post in “Cold hands in winter”. Reason: Harassing other members"
    )


def test_only_moderators_decide_and_a_decided_item_cannot_be_decided_twice(world):
    flag(world, world.others[0])
    item = item_of(world.reply)
    with pytest.raises(NotAllowed):
        moderation.decide(
            acting_member=world.alice, tenant=world.tenant, item=item, choice=DecisionInput(decision=Decision.APPROVE)
        )
    moderation.decide(
        acting_member=world.moderator, tenant=world.tenant, item=item, choice=DecisionInput(decision=Decision.APPROVE)
    )
    with pytest.raises(Conflict):
        moderation.decide(
            acting_member=world.admin, tenant=world.tenant, item=item, choice=DecisionInput(decision=Decision.APPROVE)
        )
    assert ModerationAction.objects.filter(kind=ModerationActionKind.POST_APPROVED).count() == 1


# --- the web pages and the API -----------------------------------------------------------------------


def test_report_button_and_form_on_the_web(world):
    use_public_schema()
    alice = signed_in(HOST, world.alice)
    page = alice.get(f"/t/{world.topic.pk}/").content.decode()
    assert f'href="/t/{world.topic.pk}/p/{world.reply.pk}/report/"' in page  # someone else's post
    opening_pk = Post.objects.filter(topic_id=world.topic.pk, is_opening=True).values_list("pk", flat=True)
    with tenant_context(world.tenant):
        opening_pk = opening_pk.get()
    assert f'href="/t/{world.topic.pk}/p/{opening_pk}/report/"' not in page  # not her own
    url = f"/t/{world.topic.pk}/p/{world.reply.pk}/report/"
    assert "Urgent risk of harm" in alice.get(url).content.decode()
    refused = alice.post(url, {"reason": "other", "text": ""})
    assert refused.status_code == 400 and "Tell the moderators what is wrong." in refused.content.decode()
    assert alice.post(url, {"reason": "spam"}).status_code == 302
    again = alice.post(url, {"reason": "spam"})
    assert again.status_code == 409 and "You already reported this post." in again.content.decode()
    with tenant_context(world.tenant):
        assert list(Flag.objects.values_list("member_id", "reason")) == [(world.alice.pk, "spam")]


def test_queue_page_filters_and_decides(world):
    second = CommunityFactory(name="Second circle", slug="second-circle", visibility=Visibility.OPEN)
    CommunityMembershipFactory(community=second, member=world.carol)
    elsewhere = services.create_topic(
        acting_member=world.carol,
        tenant=world.tenant,
        community=second,
        kind=TopicKind.UPDATE,
        title="Hello there",
        body="Hey",
    )
    flag(world, world.others[0], reason=FlagReason.PRIVACY)
    flag(world, world.alice, post=elsewhere.posts.get(), reason=FlagReason.SPAM)
    use_public_schema()
    moderator = signed_in(HOST, world.moderator)
    assert "Review queue (2)" in moderator.get("/manage/").content.decode()
    page = moderator.get("/manage/queue/").content.decode()
    assert page.count('class="card review-item"') == 2
    assert (
        moderator.get("/manage/queue/?community=second-circle").content.decode().count('class="card review-item"') == 1
    )
    assert moderator.get("/manage/queue/?reason=privacy").content.decode().count('class="card review-item"') == 1
    with tenant_context(world.tenant):
        item = item_of(world.reply)
    refused = moderator.post(f"/manage/queue/{item.pk}/decide/", {"decision": "hide", "reason": ""})
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    done = moderator.post(f"/manage/queue/{item.pk}/decide/", {"decision": "hide", "reason": "Phone number"})
    assert done.status_code == 302
    with tenant_context(world.tenant):
        world.reply.refresh_from_db()
        assert (world.reply.status, world.reply.hidden_reason) == (ContentStatus.HIDDEN, "Phone number")
    assert signed_in(HOST, world.alice).get("/manage/queue/").status_code == 404


def test_api_flag_queue_and_decision(world):
    use_public_schema()
    alice = signed_in(HOST, world.alice)
    created = alice.post(
        f"{API}/posts/{world.reply.pk}/flags/", {"reason": "harassment", "text": "rude"}, content_type=JSON
    )
    assert created.status_code == 201 and created.json()["reason"] == "harassment"
    twice = alice.post(f"{API}/posts/{world.reply.pk}/flags/", {"reason": "spam"}, content_type=JSON)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_flagged")
    assert alice.get(f"{API}/moderation/queue/").status_code == 403
    moderator = signed_in(HOST, world.moderator)
    queue = moderator.get(f"{API}/moderation/queue/?reason=harassment").json()
    assert [(row["post_id"], row["reasons"], row["flags"][0]["text"]) for row in queue] == [
        (world.reply.pk, ["harassment"], "rude")
    ]
    assert moderator.get(f"{API}/moderation/queue/?reason=spam").json() == []
    item_id = queue[0]["id"]
    bad = moderator.post(f"{API}/moderation/queue/{item_id}/decision/", {"decision": "nuke"}, content_type=JSON)
    assert bad.status_code == 400
    decided = moderator.post(
        f"{API}/moderation/queue/{item_id}/decision/", {"decision": "hide", "reason": "Be kind"}, content_type=JSON
    )
    assert decided.status_code == 200
    assert (decided.json()["status"], decided.json()["decision"], decided.json()["post_status"]) == (
        "decided",
        "hide",
        "hidden",
    )
    # The threshold, beside the trust ladder's settings (tests/communities/test_safety.py).
    assert moderator.get(f"{API}/moderation/settings/").json()["flag_threshold"] == 3
    assert moderator.put(f"{API}/moderation/settings/", {"flag_threshold": 0}, content_type=JSON).status_code == 400
    assert alice.put(f"{API}/moderation/settings/", {"flag_threshold": 1}, content_type=JSON).status_code == 403


def test_log_export_is_for_admins_and_holds_the_text(world):
    flag(world, world.others[0])
    decide(world, world.reply, Decision.EDIT, reason='=HYPERLINK("x")', body="Kinder words")
    use_public_schema()
    response = signed_in(HOST, world.admin).get("/manage/log/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["id", "when", "decision", "summary"]
    (row,) = rows[1:]
    assert row[2] == "post_edited" and row[4] == "Moderator"
    assert row[9] == '\'=HYPERLINK("x")'  # a formula stays text in a spreadsheet
    assert (row[10], row[11]) == ("Buy my miracle cure at example.com", "Kinder words")
    api = signed_in(HOST, world.admin).get(f"{API}/moderation-log/export/")
    assert api.status_code == 200 and "Kinder words" in api.content.decode()
    assert signed_in(HOST, world.moderator).get("/manage/log/export.csv").status_code == 404
    assert signed_in(HOST, world.moderator).get(f"{API}/moderation-log/export/").status_code == 403
    assert signed_in(HOST, world.bob).get(f"{API}/moderation-log/export/").status_code == 403


# --- one tenant's queue is its own -------------------------------------------------------------------


def test_a_moderator_of_tenant_a_cannot_see_or_act_on_tenant_bs_queue(world, tenant_b):
    with tenant_context(tenant_b):
        other = make_world(tenant=tenant_b)
        topic = services.create_topic(
            acting_member=other.alice,
            tenant=tenant_b,
            community=other.community,
            kind=TopicKind.UPDATE,
            title="Beta things",
            body="Beta secret words",
        )
        moderation.flag_post(member=other.bob, tenant=tenant_b, post=topic.posts.get(), reason=FlagReason.SPAM, text="")
        b_item = ReviewItem.objects.get()
        # A's moderator, even as a member of B, is no moderator there.
        TenantMembershipFactory(member=world.moderator, tenant=tenant_b, role=MembershipRole.MEMBER)
    with tenant_context(world.tenant):
        flag(world, world.others[0])
    use_public_schema()
    b_host = TENANT_B["domain"]
    a_moderator_on_b = signed_in(b_host, world.moderator)
    assert a_moderator_on_b.get("/manage/queue/").status_code == 404
    assert a_moderator_on_b.post(f"/manage/queue/{b_item.pk}/decide/", {"decision": "approve"}).status_code == 404
    assert a_moderator_on_b.get(f"{API}/moderation/queue/").status_code == 403
    decision = a_moderator_on_b.post(
        f"{API}/moderation/queue/{b_item.pk}/decision/", {"decision": "approve"}, content_type=JSON
    )
    assert decision.status_code == 404
    # On A's host, A's queue shows only A's items.
    a_queue = signed_in(HOST, world.moderator).get(f"{API}/moderation/queue/").json()
    assert "Beta secret words" not in str(a_queue) and len(a_queue) == 1
    with tenant_context(tenant_b):
        b_item.refresh_from_db()
        assert b_item.status == ReviewStatus.OPEN
        assert not ModerationAction.objects.exists()
