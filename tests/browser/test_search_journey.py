"""The search journey in a real browser (issue 11): a member types, in the search box every partner page
carries, a word that appears only in a reply; the results are grouped by topic with the reply's
highlighted snippet; a community filter narrows them (and "remove the filter" brings them back); the
trials tab lists a recruiting trial that matches the same word.

The member signs in with their password on the root domain and is handed off to the partner, as real
people do. Everything the test makes is committed (the live server runs in other threads) and removed
afterwards.
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest

from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@dataclass(frozen=True)
class Scene:
    email: str
    word: str  # only in a reply
    topic_title: str
    community_name: str
    other_slug: str
    other_name: str
    nct_id: str


@pytest.fixture
def scene(committed_db: None, tenant_a: Any) -> Iterator[Scene]:
    from django_tenants.utils import tenant_context

    from communities.models import Community, JoiningPolicy, TopicKind, Visibility
    from communities.services import create_community, create_reply, create_topic, join_community
    from directory.services import withdraw_community
    from members.models import Member
    from members.services import join_tenant
    from tenants.db import use_public_schema
    from tests.factories import MemberFactory
    from trials.models import Trial

    token = secrets.token_hex(4)
    # A made-up word (letters only, so stemming leaves it alone) no other test writes.
    word = "zeph" + "".join(chr(ord("a") + int(c, 16) % 26) for c in token) + "ine"
    admin = cast(Member, MemberFactory(email=f"admin-{token}@{COMMITTED_EMAIL_DOMAIN}", display_name="Admin"))
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    reader = cast(Member, MemberFactory(email=f"reader-{token}@{COMMITTED_EMAIL_DOMAIN}", display_name="Reader"))
    replier = cast(Member, MemberFactory(email=f"replier-{token}@{COMMITTED_EMAIL_DOMAIN}", display_name="Replier"))
    slugs = [f"search-a-{token}", f"search-b-{token}"]
    names = [f"Flares circle {token}", f"Sleep circle {token}"]
    nct_id = f"NCT9{int(token, 16) % 10_000_000:07d}"
    title = f"Tired all the time {token}"
    try:
        with tenant_context(tenant_a):
            communities = [
                create_community(
                    acting_member=admin,
                    tenant=tenant_a,
                    name=name,
                    slug=slug,
                    visibility=Visibility.MEMBERS_ONLY,
                    joining_policy=JoiningPolicy.OPEN,
                    premoderated_posts=0,  # new members' posts would otherwise wait for a moderator
                )
                for name, slug in zip(names, slugs, strict=True)
            ]
            for member in (reader, replier):
                join_tenant(member=member, tenant=tenant_a)
                for community in communities:
                    join_community(member=member, tenant=tenant_a, community=community)
            topic = create_topic(
                acting_member=reader,
                tenant=tenant_a,
                community=communities[0],
                kind=TopicKind.QUESTION,
                title=title,
                body="Does anyone else sleep all afternoon?",
            )
            create_reply(
                acting_member=replier,
                tenant=tenant_a,
                topic=topic,
                body=f"My rheumatologist suggested {word} and the afternoons got better.",
            )
        use_public_schema()
        Trial.objects.create(
            nct_id=nct_id,
            brief_title=f"A study of {word} for fatigue",
            overall_status="RECRUITING",
            search_text=f"a study of {word} for fatigue",
            last_update_posted=datetime.date(2026, 11, 1),
            raw_json="{}",
        )
        yield Scene(
            email=reader.email,
            word=word,
            topic_title=title,
            community_name=names[0],
            other_slug=slugs[1],
            other_name=names[1],
            nct_id=nct_id,
        )
    finally:
        use_public_schema()
        Trial.objects.filter(nct_id=nct_id).delete()
        with tenant_context(tenant_a):
            Community.objects.filter(slug__in=slugs).delete()  # cascades to topics and posts
        for slug in slugs:
            withdraw_community(tenant=tenant_a, community_slug=slug)
        use_public_schema()


def test_a_reply_only_word_is_found_highlighted_filtered_and_in_the_trials_tab(
    page: Any, live_site: Any, scene: Scene
) -> None:
    from playwright.sync_api import expect

    root, alpha = live_site.root, live_site.host(TENANT_A["domain"])
    page.goto(f"{alpha}/")
    page.locator("header.site").get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/login/\?"))
    page.get_by_label(re.compile(r"^Email:?$")).fill(scene.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{alpha}/")

    # 1. The search box in the header, on any page: the word is only in a reply.
    box = page.get_by_role("searchbox", name="Search this site")
    box.fill(scene.word)
    box.press("Enter")
    page.wait_for_url(re.compile(rf"^{re.escape(alpha)}/search/\?q={scene.word}"))
    results = page.locator(".card.topic")
    expect(results).to_have_count(1)
    card = results.first
    expect(card.get_by_role("heading", name=scene.topic_title)).to_be_visible()
    expect(card).to_contain_text(scene.community_name)
    hit = card.locator(".hit")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("Reply by Replier")
    expect(hit.locator("mark")).to_have_text(scene.word)
    expect(hit.locator(".snippet")).to_contain_text("the afternoons got better")

    # 2. A community filter that excludes the topic: nothing, and a way back.
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Community").select_option(scene.other_slug)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(rf"community={scene.other_slug}"))
    expect(page.locator(".card.topic")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("No posts match with these filters")
    page.get_by_role("link", name="Remove the community filter").click()
    expect(page.locator(".card.topic")).to_have_count(1)

    # ...and the topic's own community keeps it.
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Community").select_option(label=scene.community_name)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".card.topic")).to_have_count(1)
    expect(page.locator(".card.topic .hit mark")).to_have_text(scene.word)

    # The replier's posts: the same search narrowed to them (by their id on this site), then widened again.
    page.locator(".card.topic .hit").get_by_role("link", name="Posts by Replier").click()
    page.wait_for_url(re.compile(r"author=[a-z2-7]{20}"))
    expect(page.get_by_role("status").filter(has_text="Showing posts by")).to_contain_text("Replier")
    expect(page.locator(".card.topic")).to_have_count(1)
    expect(page.locator(".card.topic .hit")).to_contain_text("Reply by Replier")
    page.get_by_role("link", name="Remove the author filter").click()
    page.wait_for_url(re.compile(r"^[^?]*/search/\?(?!.*author=)"))
    expect(page.get_by_text("Showing posts by")).to_have_count(0)
    expect(page.locator(".card.topic")).to_have_count(1)

    # 3. The trials tab: the same words over recruiting trials.
    page.locator("nav.tabs").get_by_role("link", name="Trials").click()
    expect(page.locator("nav.tabs a[aria-current=page]")).to_have_text("Trials")
    expect(page.locator("main")).to_contain_text(scene.nct_id)
    expect(page.locator("main")).to_contain_text(f"A study of {scene.word} for fatigue")
