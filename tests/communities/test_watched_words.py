"""Watched words and link rules: every action, bad patterns refused with a clear error at save, a
pathological pattern cannot stall posting, sample tests save nothing, and it is all in the API."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import tenant_context

from communities import moderation, services
from communities.models import (
    ContentStatus,
    ModerationAction,
    ModerationActionKind,
    Post,
    ReviewItem,
    Topic,
    TopicKind,
    WatchedWord,
    WatchedWordAction,
)
from communities.watched import PatternInvalid, Rule, RuleSet, compile_source
from core.errors import InvalidInput, NotAllowed
from tenants.db import use_public_schema
from tests.communities.worlds import start_topic
from tests.conftest import TENANT_A, signed_in
from tests.factories import CommunityMembershipFactory

pytestmark = pytest.mark.django_db
HOST = TENANT_A["domain"]
API = "/api/v1"
JSON = "application/json"


@pytest.fixture
def world(world):
    w = world
    w.topic = start_topic(w, title="Morning stiffness", body="How long does yours last?")
    return w


def watch(world, pattern, action, **fields):
    return moderation.add_watched_word(
        acting_member=world.moderator, tenant=world.tenant, pattern=pattern, action=action, **fields
    )


def reply(world, body, who="bob"):
    return services.create_reply(acting_member=getattr(world, who), tenant=world.tenant, topic=world.topic, body=body)


def test_block_refuses_with_the_message_and_saves_nothing(world):
    watch(world, "miracle cure", WatchedWordAction.BLOCK, message="We don't allow cure claims here.")
    with pytest.raises(InvalidInput) as refused:
        reply(world, "This MIRACLE   cure works")
    assert (refused.value.code, refused.value.message) == (
        "blocked_by_watched_word",
        "We don't allow cure claims here.",
    )
    assert Post.objects.filter(topic=world.topic).count() == 1
    # Whole words only: "miracle cures" is another phrase.
    assert reply(world, "No miracle cures, sadly").status == ContentStatus.PUBLISHED
    with pytest.raises(InvalidInput):
        services.create_topic(
            acting_member=world.alice, tenant=world.tenant, community=world.community, kind=TopicKind.UPDATE,
            title="My miracle cure", body="Details inside",
        )  # fmt: skip


def test_hold_flag_censor_and_replace(world):
    watch(world, "ivermectin", WatchedWordAction.HOLD)
    watch(world, r"\bbuy\s+now\b", WatchedWordAction.FLAG, is_regex=True)
    watch(world, "damn", WatchedWordAction.CENSOR)
    watch(world, "lupie", WatchedWordAction.REPLACE, replacement="person with lupus")
    held = reply(world, "Try ivermectin")
    assert held.status == ContentStatus.HELD
    assert ReviewItem.objects.get(post=held).reasons == ["watched_word"]
    flagged = reply(world, "Buy  now at my shop")
    assert flagged.status == ContentStatus.PUBLISHED and ReviewItem.objects.get(post=flagged).reasons == [
        "watched_word"
    ]
    rewritten = reply(world, "Damn, every lupie knows this")
    assert rewritten.body_markdown == "****, every person with lupus knows this"
    assert "****" in rewritten.body_html and not ReviewItem.objects.filter(post=rewritten).exists()
    # Edits pass the same rules.
    services.edit_post(acting_member=world.bob, tenant=world.tenant, post=rewritten, body="damn again")
    rewritten.refresh_from_db()
    assert rewritten.body_markdown == "**** again"


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        (r"(a)\1", "invalid escape sequence"),  # back-reference
        (r"(?=foo)bar", "invalid perl operator"),  # look-ahead
        (r"([a-z]+", "missing )"),
        (r"((a{100}){100}){100}", "invalid repetition size"),
    ],
)
def test_bad_patterns_are_refused_at_save_with_a_clear_error(world, pattern, fragment):
    with pytest.raises(PatternInvalid) as refused:
        watch(world, pattern, WatchedWordAction.FLAG, is_regex=True)
    assert refused.value.code == "pattern_invalid" and fragment in refused.value.message
    assert "RE2 syntax" in refused.value.message
    assert not WatchedWord.objects.exists()
    assert not ModerationAction.objects.exists()


def test_a_pathological_pattern_cannot_stall_posting(world):
    # Catastrophic backtracking in a backtracking engine (Python's re takes minutes on this input);
    # RE2 accepts the pattern and checks it in linear time.
    watch(world, r"(a+)+$", WatchedWordAction.FLAG, is_regex=True)
    watch(world, r"(x+x+)+y", WatchedWordAction.HOLD, is_regex=True)
    body = "a" * 12_000 + "!" + " x" * 2_000 + "x" * 3_000
    started = time.perf_counter()
    post = reply(world, body)
    elapsed = time.perf_counter() - started
    assert post.status == ContentStatus.PUBLISHED
    assert elapsed < 2.0, f"posting took {elapsed:.2f} s"


def test_link_rules(world):
    with pytest.raises(InvalidInput) as refused:
        reply(world, "See https://example.com/page")
    assert refused.value.code == "link_not_allowed" and "New members can't post links" in refused.value.message
    moderation.update_link_rules(
        acting_member=world.moderator, tenant=world.tenant, new_members_may_link=True, new_member_posts=3,
        allowed_domains="", denied_domains="spam.example\n",
    )  # fmt: skip
    assert reply(world, "See https://example.com/page").status == ContentStatus.PUBLISHED
    with pytest.raises(InvalidInput) as denied:
        reply(world, "Cheap at www.shop.spam.example now")
    assert denied.value.message == "Links to shop.spam.example are not allowed here."
    moderation.update_link_rules(
        acting_member=world.moderator, tenant=world.tenant, new_members_may_link=True, new_member_posts=3,
        allowed_domains="nih.gov", denied_domains="",
    )  # fmt: skip
    assert reply(world, "https://www.nih.gov/health").status == ContentStatus.PUBLISHED
    with pytest.raises(InvalidInput):
        reply(world, "https://example.com")
    with pytest.raises(InvalidInput) as bad_domain:
        moderation.update_link_rules(
            acting_member=world.moderator, tenant=world.tenant, new_members_may_link=True, new_member_posts=3,
            allowed_domains="not a domain", denied_domains="",
        )  # fmt: skip
    assert bad_domain.value.code == "domain_invalid"
    # Moderators are exempt from link rules.
    CommunityMembershipFactory(community=world.community, member=world.moderator)
    services.create_reply(acting_member=world.moderator, tenant=world.tenant, topic=world.topic, body="https://x.org")


def test_only_moderators_manage_words_and_every_change_is_logged(world):
    with pytest.raises(NotAllowed):
        moderation.add_watched_word(
            acting_member=world.alice, tenant=world.tenant, pattern="x", action=WatchedWordAction.FLAG
        )
    word = watch(world, "spammy", WatchedWordAction.FLAG)
    moderation.remove_watched_word(acting_member=world.moderator, tenant=world.tenant, word=word)
    summaries = list(ModerationAction.objects.order_by("id").values_list("kind", "summary"))
    assert summaries == [
        (ModerationActionKind.RULES_CHANGED, "Added the watched word “spammy” (flag)"),
        (ModerationActionKind.RULES_CHANGED, "Removed the watched word “spammy” (flag)"),
    ]


def test_ruleset_finds_all_matches_in_one_pass():
    rules = [Rule(source=compile_source(pattern=f"word{n}", is_regex=False), action="flag") for n in range(500)]
    screening = RuleSet(rules).screen("nothing here but word7 and word499 and word4999")
    assert sorted(screening.matched) == sorted([rules[7].source, rules[499].source])


def test_web_test_then_save_and_the_api(world):
    use_public_schema()
    moderator = signed_in(HOST, world.moderator)
    fields = {"pattern": "snake oil", "action": "censor", "sample": "Pure snake oil, this.", "intent": "test"}
    tested = moderator.post("/manage/words/", fields)
    assert tested.status_code == 200 and "Pure *********, this." in tested.content.decode()
    with tenant_context(world.tenant):
        assert not WatchedWord.objects.exists()  # testing saves nothing
    bad = moderator.post("/manage/words/", {**fields, "pattern": "(a)\\1", "is_regex": "on", "intent": "save"})
    assert bad.status_code == 400 and "That regular expression can&#x27;t be used" in bad.content.decode()
    assert moderator.post("/manage/words/", {**fields, "intent": "save"}).status_code == 302
    assert "snake oil" in moderator.get("/manage/words/").content.decode()
    assert signed_in(HOST, world.alice).get("/manage/words/").status_code == 404

    trial = moderator.post(
        f"{API}/moderation/watched-words/test/",
        {"pattern": "x+y", "is_regex": True, "action": "block", "sample": "xxxxy"},
        content_type=JSON,
    )
    assert trial.status_code == 200 and trial.json()["matched"] is True and trial.json()["outcome"] == "block"
    invalid = moderator.post(
        f"{API}/moderation/watched-words/",
        {"pattern": "(?<=a)b", "is_regex": True, "action": "flag"},
        content_type=JSON,
    )
    assert (invalid.status_code, invalid.json()["code"]) == (400, "pattern_invalid")
    created = moderator.post(
        f"{API}/moderation/watched-words/", {"pattern": "quack", "action": "hold"}, content_type=JSON
    )
    assert created.status_code == 201
    assert [w["pattern"] for w in moderator.get(f"{API}/moderation/watched-words/").json()] == ["snake oil", "quack"]
    assert moderator.delete(f"{API}/moderation/watched-words/{created.json()['id']}/").status_code == 204
    rules = moderator.get(f"{API}/moderation/link-rules/").json()
    assert rules["new_members_may_link"] is False and rules["new_member_posts"] == 3
    alice = signed_in(HOST, world.alice)
    assert alice.get(f"{API}/moderation/watched-words/").status_code == 403
    assert (
        alice.post(
            f"{API}/moderation/watched-words/", {"pattern": "a", "action": "hold"}, content_type=JSON
        ).status_code
        == 403
    )
    with tenant_context(world.tenant):
        assert Topic.objects.count() == 1
