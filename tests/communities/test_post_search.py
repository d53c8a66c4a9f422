"""Search over every post: replies, stemming, phrases, OR, exclusions, synonyms, filters with text,
snippets, "did you mean", zero-result hints, index upkeep, and bad queries that never fail."""

from __future__ import annotations

import datetime

import pytest
from django.http import QueryDict
from django.utils import timezone
from django_tenants.utils import tenant_context

from communities import moderation, services
from communities.models import (
    CommunitySubscription,
    ContentStatus,
    Post,
    ReviewItem,
    ReviewStatus,
    SearchSynonym,
    SearchTerm,
    Tag,
    TagKind,
    TagStatus,
    TopicKind,
    Visibility,
    WatchLevel,
)
from communities.moderation import Decision, DecisionInput
from communities.search import (
    UNKNOWN_AUTHOR,
    SearchFilters,
    SearchRequest,
    parse_query,
    rebuild_search_vocabulary,
    render_snippet,
    search_request_from,
)
from communities.selectors import search_posts
from communities.tasks import rebuild_search_vocabularies
from conditions.models import Condition
from members.selectors import local_id_of
from tests.communities.worlds import reply_to, start_topic
from tests.factories import (
    CommunityFactory,
    CommunityMembershipFactory,
    TagFactory,
    TenantMembershipFactory,
    community_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world):
    w = world
    w.fatigue_tag = TagFactory(community=w.community, kind=TagKind.SYMPTOM, name="Fatigue", slug="fatigue")
    w.mtx_tag = TagFactory(community=w.community, kind=TagKind.TREATMENT, name="Methotrexate", slug="methotrexate")

    def topic(title, body, member=None, community=None, **fields):
        return start_topic(w, title=title, body=body, member=member, community=community, **fields)

    def reply(topic_, body, member=None):
        return reply_to(w, topic_, body=body, member=member)

    w.topic, w.reply = topic, reply
    w.infusion = topic("Tired after infusions", "I sleep all day after each infusion.", tag_ids=[w.fatigue_tag.pk])
    w.side = reply(w.infusion, "The side effects of belimumab faded after three months for me.")
    w.nausea = topic("Weekly doses", "My stomach hurts on Mondays.", tag_ids=[w.mtx_tag.pk])
    w.mtx = reply(w.nausea, "Taking MTX with folic acid stopped the nausea.", member=w.alice)
    w.garden = topic("Gardening", "Raised beds help my joint pain.", kind=TopicKind.UPDATE)
    return w


def search(world, q="", member=None, **params):
    query = QueryDict(mutable=True)
    query["q"] = q
    for key, value in params.items():
        if isinstance(value, list):
            query.setlist(key, value)
        else:
            query[key] = value
    request = search_request_from(query, kinds=TopicKind.values, tenant=world.tenant)
    assert not request.errors, request.errors
    return search_posts(member=member or world.alice, tenant=world.tenant, request=request)


def titles(world, q, **kwargs):
    return [hit.topic.title for hit in search(world, q, **kwargs).topics]


def test_a_word_only_in_a_reply_finds_its_topic_and_the_reply(world):
    result = search(world, "belimumab")
    assert [hit.topic.title for hit in result.topics] == ["Tired after infusions"]
    assert [hit.post.pk for hit in result.topics[0].posts] == [world.side.pk]
    assert "<mark>belimumab</mark>" in result.topics[0].posts[0].snippet


def test_stemming_phrases_or_and_exclusions(world):
    assert titles(world, "infusions") == ["Tired after infusions"]  # the body says "infusion"
    assert titles(world, "effect") == ["Tired after infusions"]  # "side effects" in a reply
    assert titles(world, '"side effects"') == ["Tired after infusions"]
    assert titles(world, '"effects side"') == []
    assert sorted(titles(world, "nausea OR gardening")) == ["Gardening", "Weekly doses"]
    assert titles(world, "nausea OR") == ["Weekly doses"]
    assert titles(world, "pain -raised") == []
    assert titles(world, 'stomach -"joint pain"') == ["Weekly doses"]


def test_title_matches_rank_first(world):
    world.reply(world.garden, "Infusions of patience in the garden.")
    assert titles(world, "infusion") == ["Tired after infusions", "Gardening"]


def test_taxonomy_and_partner_synonyms(world):
    Condition.objects.get_or_create(
        mesh_id="D009103", defaults={"name": "Multiple Sclerosis", "synonyms": ["MS", "disseminated sclerosis"]}
    )
    world.reply(world.garden, "Multiple sclerosis makes the heat hard.")
    assert titles(world, "MS") == ["Gardening"]
    assert titles(world, "ms heat") == ["Gardening"]
    # Partner's own list: "methotrexate" finds the reply that only says "MTX", and back.
    assert titles(world, "methotrexate") == ["Weekly doses"]  # the tag, on the opening post
    world.reply(world.infusion, "My rheumatologist added methotrexate.")
    assert titles(world, "MTX") == ["Weekly doses"]
    SearchSynonym.objects.create(terms=["MTX", "methotrexate"])
    assert sorted(titles(world, "MTX")) == ["Tired after infusions", "Weekly doses"]
    assert titles(world, "folic acid -methotrexate") == ["Weekly doses"]  # exclusions are never expanded


def test_each_filter_narrows_the_text(world):
    other = CommunityFactory(name="Other", slug="other", visibility=Visibility.OPEN)
    CommunityMembershipFactory(community=other, member=world.alice)
    world.topic("Sleep in the other place", "Nausea at night.", community=other)
    assert sorted(titles(world, "nausea")) == ["Sleep in the other place", "Weekly doses"]
    assert titles(world, "nausea", community="other") == ["Sleep in the other place"]
    assert titles(world, "pain", kind="update") == ["Gardening"]
    assert titles(world, "pain", kind="question") == []
    assert titles(world, "sleep", symptom="fatigue") == ["Tired after infusions"]
    assert titles(world, "nausea", treatment="methotrexate") == ["Weekly doses"]
    assert titles(world, "nausea", tag="unknown-tag") == []
    services.mark_answer(acting_member=world.alice, tenant=world.tenant, topic=world.nausea, post=world.mtx)
    assert titles(world, "nausea", status="answered") == ["Weekly doses"]
    assert titles(world, "nausea", status="unanswered") == ["Sleep in the other place"]
    assert titles(world, "infusion", status="unanswered") == ["Tired after infusions"]
    today = timezone.localdate()
    assert titles(world, "nausea", after=(today + datetime.timedelta(days=1)).isoformat()) == []
    assert sorted(titles(world, "nausea", before=today.isoformat())) == ["Sleep in the other place", "Weekly doses"]
    assert titles(world, "belimumab", author=local_id_of(world.bob, tenant=world.tenant)) == ["Tired after infusions"]
    assert titles(world, "belimumab", author=local_id_of(world.alice, tenant=world.tenant)) == []


def test_the_plain_topic_tag_filter_narrows_the_text(world):
    flares = TagFactory(community=world.community, kind=TagKind.TOPIC, name="Flares", slug="flares")
    world.topic("Sleep during a flare", "I cannot sleep when it flares.", tag_ids=[flares.pk])
    assert sorted(titles(world, "sleep")) == ["Sleep during a flare", "Tired after infusions"]
    assert titles(world, "sleep", tag="flares") == ["Sleep during a flare"]
    assert titles(world, "sleep", tag="FLARES") == ["Sleep during a flare"]  # slugs are read in lower case
    assert titles(world, "nausea", tag="flares") == []  # the tag narrows the text, never replaces it
    assert titles(world, "sleep", tag="flares", symptom="fatigue") == []  # every tag must be on the topic
    world.reply(world.infusion, "Flares make the fatigue worse at night.")
    assert titles(world, "night", tag="flares") == []  # a word in another topic's reply: not tagged
    result = search(world, "nausea", tag="flares")
    assert result.total_topics == 0 and ("topic:flares", 1) in result.relaxations


def test_a_proposed_tag_filters_like_an_unknown_one_until_curated(world):
    world.topic("Foggy mornings", "I sleep badly and think slowly.", proposed_tag_names=["Brain fog"])
    proposed = Tag.objects.get(community=world.community, slug="brain-fog")
    assert (proposed.kind, proposed.status) == (TagKind.TOPIC, TagStatus.PROPOSED)
    assert sorted(titles(world, "sleep")) == ["Foggy mornings", "Tired after infusions"]
    assert titles(world, "sleep", tag="brain-fog") == titles(world, "sleep", tag="no-such-tag") == []
    assert titles(world, "sleep", tag="brain-fog", member=world.moderator) == []  # for everyone
    services.create_tag(
        acting_member=world.moderator, tenant=world.tenant, community=world.community, kind=TagKind.TOPIC,
        name="Brain fog",
    )  # fmt: skip
    assert titles(world, "sleep", tag="brain-fog") == ["Foggy mornings"]


def test_the_author_filter_takes_the_members_id_on_this_site_only(world, tenant_b):
    bob_here = local_id_of(world.bob, tenant=world.tenant)
    assert titles(world, "belimumab", author=bob_here) == ["Tired after infusions"]
    assert titles(world, "nausea MTX", author=local_id_of(world.alice, tenant=world.tenant)) == ["Weekly doses"]
    assert titles(world, "nausea MTX", author=bob_here) == []
    # Each hit says its author's id here: what "Posts by this member" links with.
    (hit,) = search(world, "belimumab").topics[0].posts
    assert hit.post.author_local_id == bob_here

    def read(author):
        query = QueryDict(mutable=True)
        query.update({"q": "belimumab", "author": str(author)})
        request = search_request_from(query, kinds=TopicKind.values, tenant=world.tenant)
        return request.errors, request.filters.author, request.filters.author_member_id

    assert read(bob_here) == ({}, bob_here, world.bob.pk)
    assert read(bob_here.upper()) == ({}, bob_here, world.bob.pk)  # base32 reads in any case
    refused = ({"author": [UNKNOWN_AUTHOR]}, "", None)
    # The platform's global id names no one on a partner's host, in any spelling ...
    assert read(world.bob.public_id) == refused
    assert read(world.bob.public_id.hex) == refused
    assert read(world.bob.pk) == refused
    # ... nor does Bob's id on another partner, where he is a member too (ids are unlinkable) ...
    TenantMembershipFactory(member=world.bob, tenant=tenant_b)
    on_b = local_id_of(world.bob, tenant=tenant_b)
    assert on_b != bob_here and read(on_b) == refused
    # ... nor an id this site would give someone who is not its member.
    assert read(local_id_of(world.stranger, tenant=world.tenant)) == refused
    # A filter that names no one finds nothing, even if built by hand without the lookup.
    unresolved = SearchRequest(query="belimumab", filters=SearchFilters(author=bob_here))
    assert search_posts(member=world.alice, tenant=world.tenant, request=unresolved).topics == []


def test_newest_sort(world):
    world.reply(world.garden, "Stomach cramps after digging.")
    assert titles(world, "stomach", sort="newest") == ["Gardening", "Weekly doses"]


def test_snippets_escape_member_text(world):
    world.reply(world.garden, 'Ibuprofen <script>alert("x")</script> & <b>rest</b> \x02 help.')
    result = search(world, "ibuprofen")
    snippet = str(result.topics[0].posts[0].snippet)
    assert "<script" not in snippet and "<b>" not in snippet
    assert "alert(&quot;x&quot;)" in snippet
    assert snippet.count("<mark>") == snippet.count("</mark>") == 1
    assert str(render_snippet("a \x02b\x02 c \x03\x03 d \x03")) == "a <mark>b c </mark> d "


def test_did_you_mean_and_filter_hints(world):
    rebuild_search_vocabulary()
    result = search(world, "belimumb")
    assert result.total_topics == 0
    assert result.suggestion == "belimumab"
    assert search(world, "belimumab").suggestion == ""
    result = search(world, "belimumab", kind="update")
    assert result.total_topics == 0
    assert result.relaxations == [("kind", 1)]


def test_index_follows_new_edited_removed_and_restored_posts(world):
    post = world.reply(world.garden, "Compost tea every morning.")
    assert titles(world, "compost") == ["Gardening"]
    services.edit_post(acting_member=world.bob, tenant=world.tenant, post=post, body="Mulch every morning.")
    assert titles(world, "compost") == []
    assert titles(world, "mulch") == ["Gardening"]
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=post, reason="test")
    assert titles(world, "mulch") == []
    assert titles(world, "mulch", member=world.moderator) == []  # removed posts stay out, for moderators too
    services.restore_post(acting_member=world.moderator, tenant=world.tenant, post=post)
    assert titles(world, "mulch") == ["Gardening"]
    opening = Post.objects.get(topic=world.garden, is_opening=True)
    services.edit_post(
        acting_member=world.alice, tenant=world.tenant, post=opening, body="Raised beds.", title="Allotment"
    )
    assert titles(world, "allotment") == ["Allotment"]
    assert titles(world, "gardening") == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "-",
        "OR OR",
        '""',
        "!!! & | ( ) : * < >",
        '"unbalanced quote',
        'side "effects',
        "\x00belimumab\x00",
        "x" * 10_000,
        "belimumab " * 2_000,
        "-belimumab",
        "'; DROP TABLE communities_post; --",
        "\\",
        "a:* & !b",
    ],
)
def test_bad_queries_return_a_clean_result(world, query):
    result = search(world, query)
    assert result.total_topics in (0, 1)
    if query.startswith("\x00"):
        assert [hit.topic.title for hit in result.topics] == ["Tired after infusions"]
    assert Post.objects.count() >= 5  # nothing dropped


def test_only_exclusions_ask_for_a_word(world):
    result = search(world, "-pain")
    assert result.topics == [] and "Add a word" in result.message


def test_parse_keeps_units_bounded():
    parsed = parse_query("a " * 500)
    assert len(parsed.groups) <= 12
    assert parse_query('"multiple sclerosis" OR ms -"heat"').excluded[0].text == "heat"


# ---------------------------------------------------------------------------------------------
# Visibility: one table of cases
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def places(world):
    open_ = CommunityFactory(name="Open", slug="open-place", visibility=Visibility.OPEN)
    closed = world.community  # members only: alice and bob
    CommunityMembershipFactory(community=open_, member=world.moderator)
    world.topic("Open talk", "Zebrafish everywhere.", community=open_, member=world.moderator)
    world.reply(world.infusion, "Zebrafish in the closed room.")
    removed = world.reply(world.garden, "Zebrafish removed later.")
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=removed, reason="off topic")
    dead = world.topic("Deleted topic", "Zebrafish in a deleted topic.")
    type(dead).objects.filter(pk=dead.pk).update(deleted_at=timezone.now())
    return open_, closed


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", ["Open talk"]),
        ("stranger", ["Open talk"]),
        ("carol", ["Open talk"]),  # tenant member, not in the members-only community
        ("alice", ["Open talk", "Tired after infusions"]),
        ("moderator", ["Open talk", "Tired after infusions"]),
        ("alice_muting_open", ["Tired after infusions"]),
    ],
)
def test_visibility_table(world, places, who, expected):
    from django.contrib.auth.models import AnonymousUser

    open_, _ = places
    if who == "anonymous":
        member = AnonymousUser()
    elif who == "alice_muting_open":
        member = world.alice
        CommunitySubscription.objects.create(community=open_, member=member, level=WatchLevel.MUTED)
    else:
        member = getattr(world, who)
    assert sorted(titles(world, "zebrafish", member=member)) == expected


def test_other_partners_never_see_these_posts(world, tenant_b):
    with tenant_context(tenant_b):
        community_world(tenant=tenant_b, visibility=Visibility.OPEN)
        request = search_request_from(QueryDict("q=belimumab"), kinds=TopicKind.values, tenant=world.tenant)
        from django.contrib.auth.models import AnonymousUser

        assert search_posts(member=AnonymousUser(), tenant=tenant_b, request=request).topics == []


def test_erased_members_words_are_not_findable(world):
    from communities.personal_data import erase_member_data

    assert titles(world, "belimumab") == ["Tired after infusions"]  # bob's reply
    erase_member_data(world.bob, keep_posts=False)
    assert titles(world, "belimumab") == []
    assert titles(world, "infusion") == ["Tired after infusions"]  # alice's words stay


# ---------------------------------------------------------------------------------------------
# The "did you mean" vocabulary: published words join at once, Celery beat recounts it daily
# ---------------------------------------------------------------------------------------------


def _vocabulary(world, word):
    return dict(SearchTerm.objects.filter(word=word).values_list("community_id", "ndoc"))


def test_beat_rebuilds_the_vocabulary_of_every_partner(world, settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["rebuild-search-vocabularies"]
    assert entry["task"] == "communities.tasks.rebuild_search_vocabularies"
    assert entry["task"] in app.tasks

    first = world.reply(world.garden, "Xylophonist neighbours again.")
    world.reply(world.garden, "The xylophonist played all night.")
    # New words are suggested at once (count 1: added as written, not counted)...
    assert _vocabulary(world, "xylophonist") == {world.community.pk: 1}
    assert search(world, "xylophonst").suggestion == "xylophonist"
    # ...and the daily rebuild recounts them, in every partner's schema.
    done = rebuild_search_vocabularies()
    assert set(done) >= {world.tenant.schema_name} and done[world.tenant.schema_name] > 0
    assert _vocabulary(world, "xylophonist") == {world.community.pk: 2}
    # A removed post's words stay suggestible only until the next rebuild.
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=first, reason="test")
    services.delete_post(
        acting_member=world.moderator,
        tenant=world.tenant,
        post=Post.objects.get(body_markdown__startswith="The xylophonist"),
        reason="test",
    )
    rebuild_search_vocabularies()
    assert _vocabulary(world, "xylophonist") == {}
    assert search(world, "xylophonst").suggestion == ""


def test_held_words_are_never_suggested_until_approved(world):
    world.community.premoderated_posts = 50  # bob's next posts wait for a moderator
    world.community.save()
    held = world.reply(world.garden, "Quokkaesque holiday photos.")
    assert held.status == ContentStatus.HELD
    assert _vocabulary(world, "quokkaesque") == {}
    rebuild_search_vocabularies()
    assert _vocabulary(world, "quokkaesque") == {}
    item = ReviewItem.objects.get(post=held, status=ReviewStatus.OPEN)
    moderation.decide(
        acting_member=world.moderator, tenant=world.tenant, item=item, choice=DecisionInput(decision=Decision.APPROVE)
    )
    assert _vocabulary(world, "quokkaesque") == {world.community.pk: 1}


@pytest.fixture
def moderated(world):
    """Bob's held topic, bob's reply a moderator hid, and a topic alice muted: one word in each."""
    world.community.premoderated_posts = 50  # bob's next posts wait for a moderator
    world.community.save()
    held = world.topic("Held topic", "Okapi sightings, waiting for review.", member=world.bob)
    assert held.status == ContentStatus.HELD
    world.community.premoderated_posts = 0
    world.community.save()
    hidden = world.reply(world.garden, "Okapi in the hidden reply.")
    moderation.flag_post(member=world.alice, tenant=world.tenant, post=hidden, reason="spam")
    moderation.decide(
        acting_member=world.moderator,
        tenant=world.tenant,
        item=ReviewItem.objects.get(post=hidden, status=ReviewStatus.OPEN),
        choice=DecisionInput(decision=Decision.HIDE, reason="test"),
    )
    assert Post.objects.get(pk=hidden.pk).status == ContentStatus.HIDDEN
    muted = world.topic("Muted topic", "Okapi everywhere in the muted one.")
    services.set_topic_watch_level(member=world.alice, tenant=world.tenant, topic=muted, level=WatchLevel.MUTED)
    return world


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", []),  # members-only community
        ("carol", []),  # tenant member outside it
        ("alice", []),  # held and hidden are not hers; she muted the third topic
        ("bob", ["Gardening", "Held topic", "Muted topic"]),  # his own held and hidden posts
        ("moderator", ["Gardening", "Held topic", "Muted topic"]),
    ],
)
def test_visibility_table_held_hidden_and_muted(moderated, who, expected):
    from django.contrib.auth.models import AnonymousUser

    member = AnonymousUser() if who == "anonymous" else getattr(moderated, who)
    assert sorted(titles(moderated, "okapi", member=member)) == expected


def test_index_follows_a_hidden_post(world):
    post = world.reply(world.garden, "Wombat burrows under the shed.")
    assert titles(world, "wombat") == ["Gardening"]

    def decide(decision):
        moderation.decide(
            acting_member=world.moderator,
            tenant=world.tenant,
            item=ReviewItem.objects.get(post=post, status=ReviewStatus.OPEN),
            choice=DecisionInput(decision=decision, reason="test"),
        )

    moderation.flag_post(member=world.alice, tenant=world.tenant, post=post, reason="spam")
    decide(Decision.HIDE)
    assert titles(world, "wombat") == []  # the next query, for everyone but its author and moderators
    assert titles(world, "wombat", member=world.bob) == ["Gardening"]


def test_community_filter_on_an_unreadable_community_finds_nothing(world):
    result = search(world, "belimumab", member=world.carol, community=world.community.slug)
    assert result.topics == [] and result.relaxations == []  # carol cannot read the members-only community
    assert titles(world, "belimumab", community=world.community.slug) == ["Tired after infusions"]


def test_posts_keep_their_topics_kind_and_answered_state_for_the_filters(world):
    """Search's kind and answered filters read the post's own copy (migration 0016), kept by the services."""
    first = world.reply(world.nausea, "Ginger biscuits before the dose.")
    assert Post.objects.get(pk=first.pk).topic_kind == TopicKind.QUESTION
    assert not Post.objects.filter(topic=world.nausea, topic_answered=True).exists()
    services.mark_answer(acting_member=world.alice, tenant=world.tenant, topic=world.nausea, post=first)
    assert not Post.objects.filter(topic=world.nausea, topic_answered=False).exists()
    later = world.reply(world.nausea, "Ginger tea works too.")  # a reply after the answer: answered too
    assert Post.objects.get(pk=later.pk).topic_answered
    assert titles(world, "ginger", status="answered") == ["Weekly doses"]
    assert titles(world, "ginger", status="unanswered") == []
    assert {p.topic_kind for p in Post.objects.filter(topic=world.garden)} == {TopicKind.UPDATE}
