"""The community journey in a real browser (issue 3): sign up on a partner, join a community, ask a
tagged question, get a reply from another member, and find it in the notifications and the feed.

Bob replies through a second browser context that signs in on the root domain with his password and
is handed off to the partner, so the reply goes through the same form, CSRF check and session hand-off
as a real second member's would (not through a service call).

The community, its tag and Bob are made with the services and committed (the live server runs in other
threads); the fixture removes the community (with its topics, posts, notifications and tags) and its
directory entry afterwards, and committed_db erases the ``@committed.test`` members.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from django.core import mail

from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A

if TYPE_CHECKING:
    from members.models import Member

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ASKER_NAME = "Journey Asker"
BOB_NAME = "Bob Replier"
COMMUNITY_NAME = "Living with Lupus Fatigue"
TAG_NAME = "Joint pain"
QUESTION_TITLE = "How do you cope with morning joint pain?"
QUESTION_BODY = "My joints are stiff for hours every morning. What helps you get going?"
REPLY_BODY = "A warm shower and gentle stretching before breakfast help me a lot."


@dataclass(frozen=True)
class JourneyCommunity:
    tenant: Any
    slug: str
    tag_id: int
    tag_label: str
    bob_email: str


def _remove_community(tenant: Any, slug: str) -> None:
    """Delete the community (cascading to memberships, tags, topics, posts, subscriptions and
    notifications) in the tenant's schema, and its entry in the platform directory."""
    from django_tenants.utils import tenant_context

    from communities.models import Community
    from directory.services import withdraw_community
    from tenants.db import use_public_schema

    try:
        with tenant_context(tenant):
            Community.objects.filter(slug=slug).delete()
    finally:
        try:
            withdraw_community(tenant=tenant, community_slug=slug)
        finally:
            use_public_schema()


@pytest.fixture
def journey_community(committed_db: None, tenant_a: Any) -> Iterator[JourneyCommunity]:
    """An open-joining, members-only community of partner A with a curated symptom tag, and Bob, a
    verified member of A and of the community. Requesting committed_db makes this teardown run before
    the members are erased (their posts and notifications must go first)."""
    from django_tenants.utils import tenant_context

    from communities.models import JoiningPolicy, TagKind, Visibility
    from communities.services import create_community, create_tag, join_community
    from members.services import join_tenant
    from tenants.db import use_public_schema
    from tests.factories import MemberFactory

    token = secrets.token_hex(4)
    slug = f"journey-{token}"
    try:
        admin = cast(
            "Member",
            MemberFactory(
                is_superuser=True,
                is_staff=True,
                email=f"journey-admin-{token}@{COMMITTED_EMAIL_DOMAIN}",
                display_name="Platform Admin",
            ),
        )
        bob = cast(
            "Member", MemberFactory(email=f"journey-bob-{token}@{COMMITTED_EMAIL_DOMAIN}", display_name=BOB_NAME)
        )
        with tenant_context(tenant_a):
            community = create_community(
                acting_member=admin,
                tenant=tenant_a,
                name=COMMUNITY_NAME,
                slug=slug,
                description="Sharing what helps on the tired days.",
                visibility=Visibility.MEMBERS_ONLY,
                joining_policy=JoiningPolicy.OPEN,
                # This journey is about asking and replying; pre-moderation has its own journey.
                premoderated_posts=0,
            )
            tag = create_tag(
                acting_member=admin, tenant=tenant_a, community=community, kind=TagKind.SYMPTOM, name=TAG_NAME
            )
            join_tenant(member=bob, tenant=tenant_a)
            join_community(member=bob, tenant=tenant_a, community=community)
        use_public_schema()
        yield JourneyCommunity(tenant=tenant_a, slug=slug, tag_id=tag.pk, tag_label=str(tag), bob_email=bob.email)
    finally:
        _remove_community(tenant_a, slug)


@pytest.fixture
def bob_context(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Bob's own browser (cookie jar), next to the asker's; screenshots kept when the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            for index, open_page in enumerate(context.pages):
                try:
                    open_page.screenshot(path=str(tmp_path / f"failure-bob-{index}.png"), full_page=True)
                except Exception as exc:  # the test failure matters more
                    print(f"\nno failure screenshot for Bob's page {index}: {exc}")
        context.close()


def _header(page: Any) -> Any:
    return page.locator("header.site")


def _field(page: Any, label: str) -> Any:
    """A form field by its visible label (Django renders "Label:" with its label suffix)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def _outbox_summary() -> list[tuple[str, list[str]]]:
    return [(str(m.subject), list(m.to)) for m in mail.outbox]


def _sign_up_and_verify(page: Any, *, root: str, alpha: str, email: str) -> None:
    """Sign up from partner A and follow the emailed link back to A, signed in and a member of A."""
    from playwright.sync_api import expect

    page.goto(f"{alpha}/")
    expect(page.get_by_role("heading", name=TENANT_A["name"], exact=True)).to_be_visible()
    _header(page).get_by_role("link", name="Sign up", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/signup/\?"))
    expect(page.locator("main")).to_contain_text(f"You will join {TENANT_A['name']}")
    _field(page, "Email").fill(email)
    _field(page, "Password").fill(PASSWORD)
    _field(page, "Display name").fill(ASKER_NAME)
    _field(page, "I am a").select_option(label="Patient")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    sent = [m for m in mail.outbox if email in m.to and m.subject.startswith("Confirm your email")]
    assert len(sent) == 1, f"expected one verification email to {email}, outbox: {_outbox_summary()}"
    links = re.findall(r"https?://\S+/accounts/verify/\S+", str(sent[0].body))
    assert len(links) == 1 and links[0].startswith(f"{root}/accounts/verify/"), sent[0].body
    page.goto(links[0])
    page.wait_for_url(f"{alpha}/")
    expect(_header(page).locator(".who")).to_have_text(ASKER_NAME)
    expect(page.locator(".membership")).to_have_text(f"You are a member of {TENANT_A['name']}.")


def _bob_replies(bob_context: Any, *, root: str, alpha: str, bob_email: str, topic_id: int) -> int:
    """Bob signs in on the root with his password, is handed off to A, and replies; returns the post id."""
    from playwright.sync_api import expect

    page = bob_context.new_page()
    page.goto(f"{alpha}/")
    _header(page).get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/login/\?"))
    _field(page, "Email").fill(bob_email)
    _field(page, "Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    # Already a member of A: the root hands him straight back, without asking.
    page.wait_for_url(f"{alpha}/")
    expect(_header(page).locator(".who")).to_have_text(BOB_NAME)

    page.goto(f"{alpha}/t/{topic_id}/")
    expect(page.get_by_role("heading", name=QUESTION_TITLE, level=1)).to_be_visible()
    _field(page, "Your reply (Markdown)").fill(REPLY_BODY)
    page.get_by_role("button", name="Post reply").click()
    page.wait_for_url(re.compile(rf"^{re.escape(alpha)}/t/{topic_id}/#post-\d+$"))
    match = re.search(r"#post-(\d+)$", page.url)
    assert match is not None, page.url
    post_id = int(match.group(1))
    expect(page.locator(f"#post-{post_id}")).to_contain_text(REPLY_BODY)
    expect(page.locator(f"#post-{post_id}")).to_contain_text(BOB_NAME)
    page.close()
    return post_id


def test_join_ask_get_a_reply_and_see_it_in_notifications_and_feed(
    page: Any, bob_context: Any, live_site: Any, journey_community: JourneyCommunity, tmp_path: Path
) -> None:
    from django_tenants.utils import tenant_context
    from playwright.sync_api import expect

    from communities.models import CommunityMembership, CommunityMembershipStatus, Notification, Topic
    from members.models import Member
    from tenants.db import use_public_schema

    root, alpha = live_site.root, live_site.host(TENANT_A["domain"])
    slug = journey_community.slug
    email = f"asker-{secrets.token_hex(5)}@{COMMITTED_EMAIL_DOMAIN}"
    mail.outbox.clear()

    # 1. Sign up from partner A, confirm the email, land back on A signed in (already a member of A).
    _sign_up_and_verify(page, root=root, alpha=alpha, email=email)
    member = Member.objects.get(email=email)
    assert member.email_verified

    # 2. The members-only community: listed to A's members, but only its members read it. Join (open).
    page.get_by_role("link", name=COMMUNITY_NAME, exact=True).click()
    page.wait_for_url(f"{alpha}/c/{slug}/")
    expect(page.get_by_role("heading", name=COMMUNITY_NAME, level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Only members of this community can read its conversations.")
    expect(page.get_by_role("link", name="Post a question")).to_have_count(0)
    page.locator("main").get_by_role("button", name="Join", exact=True).click()
    page.wait_for_url(f"{alpha}/c/{slug}/")
    expect(page.locator(".messages")).to_contain_text(f"You joined {COMMUNITY_NAME}.")
    expect(page.locator("main")).to_contain_text("You are a member of this community.")

    # 3. Ask a question with the curated symptom tag.
    page.get_by_role("link", name="Post a question").click()
    page.wait_for_url(f"{alpha}/c/{slug}/new/?kind=question")
    expect(page.get_by_role("heading", name="Post a question", level=1)).to_be_visible()
    _field(page, "Title").fill(QUESTION_TITLE)
    _field(page, "Your post (Markdown)").fill(QUESTION_BODY)
    page.get_by_label(journey_community.tag_label, exact=True).check()
    page.get_by_role("button", name="Post question").click()
    page.wait_for_url(re.compile(rf"^{re.escape(alpha)}/t/\d+/$"))
    topic_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    expect(page.get_by_role("heading", name=QUESTION_TITLE, level=1)).to_be_visible()
    expect(page.locator("main .badge.question")).to_have_text("Question")
    expect(page.locator("main a.tag")).to_have_text(TAG_NAME)
    expect(page.locator("article.post").first).to_contain_text(QUESTION_BODY)
    expect(page.locator("article.post").first).to_contain_text(ASKER_NAME)
    expect(_header(page).locator(".unread")).to_have_count(0)

    # 4. Bob replies from his own browser (signed in through the root and the hand-off).
    reply_id = _bob_replies(
        bob_context, root=root, alpha=alpha, bob_email=journey_community.bob_email, topic_id=topic_id
    )

    with tenant_context(journey_community.tenant):
        topic = Topic.objects.get(pk=topic_id)
        assert topic.author_id == member.pk and topic.kind == "question" and topic.reply_count == 1
        assert list(topic.tags.values_list("pk", flat=True)) == [journey_community.tag_id]
        assert CommunityMembership.objects.get(community=topic.community, member=member).status == (
            CommunityMembershipStatus.ACTIVE
        )
        notifications = list(Notification.objects.filter(recipient=member).values_list("kind", "post_id"))
        assert notifications == [("reply", reply_id)], notifications
    use_public_schema()

    # 5. The asker reloads: one unread notification, naming Bob and linking to his reply.
    page.reload()
    notifications_link = _header(page).get_by_role("link", name=re.compile(r"^Notifications"))
    expect(notifications_link).to_have_text("Notifications (1)")
    expect(_header(page).locator(".unread")).to_have_text("(1)")
    notifications_link.click()
    page.wait_for_url(f"{alpha}/notifications/")
    expect(page.locator(".unread-count")).to_have_text("1 unread")
    items = page.locator("main li.card")
    expect(items).to_have_count(1)
    expect(items.first).to_have_class(re.compile(r"\bunread-item\b"))
    expect(items.first).to_contain_text("Reply to your topic")
    expect(items.first).to_contain_text(BOB_NAME)
    link = items.first.get_by_role("link", name=QUESTION_TITLE)
    # The link opens the notification (marking it read), which leads on to the reply.
    expect(link).to_have_attribute("href", re.compile(r"^/notifications/\d+/$"))
    link.click()
    page.wait_for_url(f"{alpha}/t/{topic_id}/#post-{reply_id}")
    expect(_header(page).locator(".unread")).to_have_count(0)
    expect(page.locator(f"#post-{reply_id}")).to_contain_text(REPLY_BODY)
    expect(page.locator("article.post")).to_have_count(2)

    # 6. The home feed shows the topic, with its reply and tag, in the community just joined.
    page.goto(f"{alpha}/")
    expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    row = page.locator(".card.topic").filter(has=page.get_by_role("link", name=QUESTION_TITLE, exact=True))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"in {COMMUNITY_NAME}")
    expect(row).to_contain_text(f"by {ASKER_NAME}")
    expect(row).to_contain_text("1 reply")
    expect(row.locator(".tag")).to_have_text(TAG_NAME)
    expect(row.get_by_role("link", name=QUESTION_TITLE, exact=True)).to_have_attribute("href", f"/t/{topic_id}/")

    screenshot = tmp_path / "community-journey.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0
