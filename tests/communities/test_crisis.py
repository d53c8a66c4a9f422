"""Urgent risk of harm: crisis language and urgent reports are rated by the matrix, jump the queue,
email the on-call moderators once, and show the author the tenant's crisis resources."""

from __future__ import annotations

import pytest
from django.core import mail

from communities import crisis, moderation, services
from communities.models import ContentStatus, FlagReason, ReviewItem, ReviewStatus, RiskLevel
from communities.selectors import review_queue
from core.errors import InvalidInput
from members.selectors import local_id_of
from tenants.db import use_public_schema
from tests.communities.worlds import start_topic
from tests.conftest import TENANT_A, signed_in

pytestmark = pytest.mark.django_db
HOST = TENANT_A["domain"]
API = "/api/v1"
JSON = "application/json"


@pytest.fixture
def world(world):
    w = world
    w.topic = start_topic(w, title="Bad week", body="Everything hurts.")
    mail.outbox.clear()
    return w


@pytest.mark.parametrize(
    ("text", "urgent_flags", "risk"),
    [
        ("I want to die", 0, RiskLevel.HIGH),
        ("I might hurt myself", 0, RiskLevel.MEDIUM),
        ("Feeling hopeless", 0, RiskLevel.LOW),
        ("Feeling hopeless", 1, RiskLevel.HIGH),
        ("Nice weather", 1, RiskLevel.MEDIUM),
        ("Nice weather", 2, RiskLevel.HIGH),
        ("Nice weather", 0, RiskLevel.NONE),
        ("Suicidality research paper", 0, RiskLevel.NONE),  # whole words only
    ],
)
def test_risk_matrix(world, text, urgent_flags, risk):
    assert crisis.assess(text=text, urgent_flags=urgent_flags) == risk


def test_crisis_post_stays_up_jumps_the_queue_and_emails_on_call_once(world, django_capture_on_commit_callbacks):
    moderation.update_crisis_settings(
        acting_member=world.moderator, tenant=world.tenant, resources="Call 112\nText 988",
        terms=[("want to die", "high"), ("hopeless", "low")], on_call_member_ids=[world.moderator.pk],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        older = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=world.topic, body="hopeless")
        post = services.create_reply(
            acting_member=world.bob, tenant=world.tenant, topic=world.topic, body="I want to die"
        )
    assert post.status == ContentStatus.PUBLISHED
    queue = review_queue(member=world.moderator, tenant=world.tenant)
    assert [(item.post_id, item.risk) for item in queue] == [(post.pk, RiskLevel.HIGH), (older.pk, RiskLevel.LOW)]
    # Only medium and high alert; only the on-call moderator; once.
    assert [message.to for message in mail.outbox] == [[world.moderator.email]]
    assert "Urgent" in mail.outbox[0].subject and "/manage/queue/" in mail.outbox[0].body
    item = ReviewItem.objects.get(post=post)
    assert crisis.deliver_crisis_alert(tenant=world.tenant, item_id=item.pk) == 0
    assert len(mail.outbox) == 1
    use_public_schema()
    page = signed_in(HOST, world.bob).get(f"/t/{world.topic.pk}/").content.decode()
    assert "You are not alone." in page and "Text 988" in page
    assert "You are not alone." not in signed_in(HOST, world.alice).get(f"/t/{world.topic.pk}/").content.decode()
    api = signed_in(HOST, world.bob).get(f"{API}/topics/{world.topic.pk}/").json()
    assert [p["crisis_resources"] for p in api["posts"] if p["id"] == post.pk] == [["Call 112", "Text 988"]]


def test_urgent_flag_alerts_every_moderator_when_nobody_is_on_call(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        moderation.flag_post(
            member=world.bob, tenant=world.tenant, post=world.topic.posts.get(), reason=FlagReason.URGENT_RISK, text=""
        )
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.admin.email, world.moderator.email])
    assert ReviewItem.objects.get().risk == RiskLevel.MEDIUM


def test_crisis_settings_are_validated_web_and_api(world):
    with pytest.raises(InvalidInput) as refused:
        moderation.update_crisis_settings(
            acting_member=world.moderator, tenant=world.tenant, resources="Call 112", terms=[("x", "high")],
            on_call_member_ids=[world.alice.pk],
        )  # fmt: skip
    assert refused.value.code == "on_call_not_moderator"
    use_public_schema()
    moderator = signed_in(HOST, world.moderator)
    page = moderator.get("/manage/crisis/").content.decode()
    assert "high: kill myself" in page and "findahelpline.com" in page
    bad = moderator.post("/manage/crisis/", {"resources": "Call 112", "terms": "urgent kill myself"})
    assert bad.status_code == 400 and "Line 1" in bad.content.decode()
    moderator_here = local_id_of(world.moderator, tenant=world.tenant)
    saved = moderator.post(
        "/manage/crisis/", {"resources": "Call 112", "terms": "high: end it all", "on_call": [moderator_here]}
    )
    assert saved.status_code == 302
    got = moderator.get(f"{API}/moderation/crisis/").json()
    assert got == {
        "resources": "Call 112",
        "terms": [{"phrase": "end it all", "risk": "high"}],
        "on_call": [moderator_here],
    }
    assert f'value="{world.moderator.pk}"' not in page and str(world.moderator.public_id) not in page
    # A platform-wide id is not an id here.
    refused = moderator.put(
        f"{API}/moderation/crisis/",
        {"resources": "Call 999", "terms": [], "on_call": [str(world.moderator.public_id)]},
        content_type=JSON,
    )
    assert refused.status_code == 400 and refused.json()["code"] == "member_unknown"
    put = moderator.put(
        f"{API}/moderation/crisis/",
        {"resources": "Call 999", "terms": [{"phrase": "no way out", "risk": "medium"}], "on_call": []},
        content_type=JSON,
    )
    assert put.status_code == 200 and put.json()["terms"] == [{"phrase": "no way out", "risk": "medium"}]
    assert signed_in(HOST, world.alice).get(f"{API}/moderation/crisis/").status_code == 403
    assert signed_in(HOST, world.alice).get("/manage/crisis/").status_code == 404


# --- edits: crisis language added in an edit is rated like a new post's --------------------------------


def _edit(world, post, body, **fields):
    return services.edit_post(acting_member=world.bob, tenant=world.tenant, post=post, body=body, **fields)


def test_crisis_words_added_in_an_edit_rate_queue_alert_and_support_the_author(
    world, django_capture_on_commit_callbacks
):
    moderation.update_crisis_settings(
        acting_member=world.moderator, tenant=world.tenant, resources="Call 112\nText 988",
        terms=[("want to die", "high"), ("hurt myself", "medium"), ("hopeless", "low")],
        on_call_member_ids=[world.moderator.pk],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        calm = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=world.topic, body="Fine")
        other = services.create_reply(
            acting_member=world.alice, tenant=world.tenant, topic=world.topic, body="hopeless"
        )
    assert not ReviewItem.objects.filter(post=calm).exists() and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        _edit(world, calm, "Honestly, I want to die")
    calm.refresh_from_db()
    assert calm.status == ContentStatus.PUBLISHED  # never silenced
    item = ReviewItem.objects.get(post=calm)
    assert (item.status, item.risk, item.reasons) == (ReviewStatus.OPEN, RiskLevel.HIGH, [crisis.CRISIS_REASON])
    queue = review_queue(member=world.moderator, tenant=world.tenant)
    assert [(i.post_id, i.risk) for i in queue] == [(calm.pk, RiskLevel.HIGH), (other.pk, RiskLevel.LOW)]
    assert [message.to for message in mail.outbox] == [[world.moderator.email]]
    assert "Urgent" in mail.outbox[0].subject

    # Another edit at the same risk (a typo fixed) alerts nobody again and opens nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        _edit(world, calm, "Honestly, I just want to die")
    assert len(mail.outbox) == 1
    assert ReviewItem.objects.filter(post=calm).count() == 1

    use_public_schema()
    page = signed_in(HOST, world.bob).get(f"/t/{world.topic.pk}/").content.decode()
    assert "You are not alone." in page and "Text 988" in page
    api = signed_in(HOST, world.bob).get(f"{API}/topics/{world.topic.pk}/").json()
    assert [p["crisis_resources"] for p in api["posts"] if p["id"] == calm.pk] == [["Call 112", "Text 988"]]


def test_an_edit_alerts_once_per_higher_risk_and_not_for_a_reviewed_one(world, django_capture_on_commit_callbacks):
    moderation.update_crisis_settings(
        acting_member=world.moderator, tenant=world.tenant, resources="Call 112",
        terms=[("want to die", "high"), ("hurt myself", "medium"), ("hopeless", "low")],
        on_call_member_ids=[world.moderator.pk],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        post = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=world.topic, body="hopeless")
    assert ReviewItem.objects.get(post=post).risk == RiskLevel.LOW and mail.outbox == []

    def risk_and_emails():
        return ReviewItem.objects.get(post=post, status=ReviewStatus.OPEN).risk, len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        _edit(world, post, "hopeless, I might hurt myself")
    assert risk_and_emails() == (RiskLevel.MEDIUM, 1)
    with django_capture_on_commit_callbacks(execute=True):
        _edit(world, post, "I might hurt myself")  # still medium: no news
    assert risk_and_emails() == (RiskLevel.MEDIUM, 1)
    with django_capture_on_commit_callbacks(execute=True):
        _edit(world, post, "I might hurt myself, I want to die")
    assert risk_and_emails() == (RiskLevel.HIGH, 2)
    with django_capture_on_commit_callbacks(execute=True):
        _edit(world, post, "hopeless")  # a lower risk lowers nothing the moderators were told
    assert risk_and_emails() == (RiskLevel.HIGH, 2)

    # Once a moderator has reviewed it, an edit that brings back the same words reopens nothing...
    item = ReviewItem.objects.get(post=post)
    moderation.decide(
        acting_member=world.moderator, tenant=world.tenant, item=item,
        choice=moderation.DecisionInput(decision=moderation.Decision.APPROVE),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        _edit(world, post, "hopeless again")
    assert not ReviewItem.objects.filter(post=post, status=ReviewStatus.OPEN).exists() and len(mail.outbox) == 2
    # ... but new crisis language does.
    with django_capture_on_commit_callbacks(execute=True):
        _edit(world, post, "hopeless, I want to die")
    assert risk_and_emails() == (RiskLevel.HIGH, 3)


def test_crisis_words_in_an_edited_title_count(world, django_capture_on_commit_callbacks):
    opening = world.topic.posts.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.edit_post(
            acting_member=world.alice, tenant=world.tenant, post=opening, body="Everything hurts.",
            title="I want to kill myself",
        )  # fmt: skip
    assert ReviewItem.objects.get(post=opening).risk == RiskLevel.HIGH
    assert len(mail.outbox) == 2  # nobody on call: every moderator and admin


def test_a_new_members_crisis_post_in_a_premoderated_community_stays_held_but_jumps_the_queue_and_alerts(
    world, django_capture_on_commit_callbacks
):
    world.community.premoderated_posts = 2
    world.community.save(update_fields=["premoderated_posts"])
    moderation.update_crisis_settings(
        acting_member=world.moderator, tenant=world.tenant, resources="Call 112",
        terms=[("want to die", "high")], on_call_member_ids=[world.moderator.pk],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        calm = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=world.topic, body="Hi all")
        post = services.create_reply(
            acting_member=world.bob, tenant=world.tenant, topic=world.topic, body="I want to die"
        )
    # Held like any new member's post: nobody has checked it yet...
    assert (calm.status, post.status) == (ContentStatus.HELD, ContentStatus.HELD)
    # ... but first in the queue, and the on-call moderator is told at once.
    queue = review_queue(member=world.moderator, tenant=world.tenant)
    assert [(item.post_id, item.risk, item.held) for item in queue] == [
        (post.pk, RiskLevel.HIGH, True),
        (calm.pk, RiskLevel.NONE, True),
    ]
    assert [message.to for message in mail.outbox] == [[world.moderator.email]]
    use_public_schema()
    mine = signed_in(HOST, world.bob).get(f"/t/{world.topic.pk}/").content.decode()
    assert "I want to die" in mine and "You are not alone." in mine and "Call 112" in mine
    others = signed_in(HOST, world.alice).get(f"/t/{world.topic.pk}/").content.decode()
    assert "I want to die" not in others and "You are not alone." not in others
