"""The moderation journey in a real browser (issue 10): a new member's first post waits for review;
a moderator approves it from the queue; it appears to others; another member reports it as an urgent
risk of harm; the on-call moderator's email goes out through SMTP, captured by a local SMTP server
(aiosmtpd) started by the test, not Django's in-memory backend.

Each person has their own browser context and signs in with their password on the root domain, then
is handed off to the partner, as real people do. Everything the test makes is committed (the live
server runs in other threads) and removed afterwards.
"""

from __future__ import annotations

import re
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any, cast

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.db import connection, transaction
from django.db.models import Max

from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TITLE = "First time here: how do you manage flares?"
BODY = "I was diagnosed last month and the flares frighten me."


@dataclass
class Inbox:
    """What the local SMTP server received: (envelope recipients, subject, body)."""

    messages: list[tuple[list[str], str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content)
        payload = parsed.get_payload(decode=True) if not parsed.is_multipart() else b""
        body = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        self.messages.append((list(envelope.rcpt_tos), str(parsed["Subject"]), body))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_inbox(settings: Any) -> Iterator[Inbox]:
    """A real SMTP server on localhost; Django sends through it with its SMTP backend."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass(frozen=True)
class Cast:
    tenant: Any
    slug: str
    newcomer: str
    moderator: str
    reader: str
    moderator_totp: str


@pytest.fixture
def cast_of(committed_db: None, tenant_a: Any) -> Iterator[Cast]:
    from django_tenants.utils import tenant_context

    from communities.models import Community, JoiningPolicy, ModerationAction, OnCallModerator, Visibility
    from communities.services import create_community, join_community
    from directory.services import withdraw_community
    from members.models import Member, MembershipRole
    from members.services import join_tenant
    from tenants.db import use_public_schema
    from tests.factories import MemberFactory, TenantMembershipFactory

    token = secrets.token_hex(4)
    slug = f"moderated-{token}"
    with tenant_context(tenant_a):
        log_before = ModerationAction.objects.aggregate(top=Max("id"))["top"] or 0
    people: dict[str, Member] = {
        name: cast(Member, MemberFactory(email=f"{name}-{token}@{COMMITTED_EMAIL_DOMAIN}", display_name=name.title()))
        for name in ("admin", "newcomer", "moderator", "reader")
    }
    admin, moderator = people["admin"], people["moderator"]
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    try:
        with tenant_context(tenant_a):
            TenantMembershipFactory(member=moderator, tenant=tenant_a, role=MembershipRole.MODERATOR)
            community = create_community(
                acting_member=admin,
                tenant=tenant_a,
                name=f"Newly diagnosed {token}",
                slug=slug,
                visibility=Visibility.MEMBERS_ONLY,
                joining_policy=JoiningPolicy.OPEN,
                premoderated_posts=2,
            )
            for name in ("newcomer", "reader"):
                join_tenant(member=people[name], tenant=tenant_a)
                join_community(member=people[name], tenant=tenant_a, community=community)
            # On call (the row goes with the member when committed_db erases them).
            OnCallModerator.objects.create(member=moderator)
        use_public_schema()
        # Moderators work the queue only after two-factor (issue 9): their authenticator app's secret.
        moderator_totp = generate_totp_secret()
        TOTP.activate(moderator, moderator_totp)
        yield Cast(
            tenant=tenant_a,
            slug=slug,
            newcomer=people["newcomer"].email,
            moderator=moderator.email,
            reader=people["reader"].email,
            moderator_totp=moderator_totp,
        )
    finally:
        with tenant_context(tenant_a):
            # Cascades to its topics, posts, flags and review items.
            Community.objects.filter(slug=slug).delete()
            _drop_log_rows_after(log_before)
        withdraw_community(tenant=tenant_a, community_slug=slug)
        use_public_schema()


def _drop_log_rows_after(last_id: int) -> None:
    """The moderation log refuses deletes (a trigger); this test's committed rows would otherwise stay
    in partner A for every later test. The table's owner (this test database's user) lifts the
    trigger for one statement, in one transaction, which nothing in the application does."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE communities_moderationaction DISABLE TRIGGER moderation_log_no_update_delete")
        cursor.execute("DELETE FROM communities_moderationaction WHERE id > %s", [last_id])
        cursor.execute("ALTER TABLE communities_moderationaction ENABLE TRIGGER moderation_log_no_update_delete")


def _context(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return context


def _sign_in(context: Any, *, root: str, alpha: str, email: str, totp_secret: str = "") -> Any:
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(f"{alpha}/")
    page.locator("header.site").get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/login/\?"))
    page.get_by_label(re.compile(r"^Email:?$")).fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    if totp_secret:
        page.wait_for_url(f"{root}/accounts/2fa/authenticate/")
        page.locator("input[name=code]").fill(format_hotp_value(hotp_value(totp_secret, int(time.time()) // 30)))
        page.locator("main").get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{alpha}/")
    expect(page.locator("header.site .who")).to_be_visible()
    return page


def test_held_post_approved_from_the_queue_then_reported_urgent_emails_on_call(
    browser: Any, live_site: Any, cast_of: Cast, smtp_inbox: Inbox
) -> None:
    from playwright.sync_api import expect

    root, alpha = live_site.root, live_site.host(TENANT_A["domain"])
    contexts = [_context(browser) for _ in range(3)]
    try:
        newcomer, moderator, reader = (
            _sign_in(context, root=root, alpha=alpha, email=email, totp_secret=secret)
            for context, email, secret in zip(
                contexts,
                (cast_of.newcomer, cast_of.moderator, cast_of.reader),
                ("", cast_of.moderator_totp, ""),
                strict=True,
            )
        )

        # 1. The newcomer posts; it waits, and they are told so.
        newcomer.goto(f"{alpha}/c/{cast_of.slug}/new/?kind=question")
        newcomer.get_by_label(re.compile(r"^Title:?$")).fill(TITLE)
        newcomer.get_by_label(re.compile(r"^Your post \(Markdown\):?$")).fill(BODY)
        newcomer.get_by_role("button", name="Post question").click()
        newcomer.wait_for_url(re.compile(rf"^{re.escape(alpha)}/t/\d+/$"))
        topic_url = newcomer.url
        expect(newcomer.locator(".messages")).to_contain_text("Your post is awaiting review")
        expect(newcomer.locator("article.post .awaiting-review")).to_contain_text("Awaiting review.")

        # 2. Nobody else sees it yet.
        response = reader.goto(topic_url)
        assert response is not None and response.status == 404
        reader.goto(f"{alpha}/c/{cast_of.slug}/")
        expect(reader.locator("main")).not_to_contain_text(TITLE)

        # 3. The moderator approves it from the queue.
        moderator.goto(f"{alpha}/manage/")
        moderator.locator("a.review-queue-link").click()
        moderator.wait_for_url(f"{alpha}/manage/queue/")
        item = moderator.locator("article.review-item", has_text=BODY)
        expect(item).to_contain_text("Held: awaiting first approval")
        item.get_by_label(re.compile(r"^Decision:?$")).select_option("approve")
        item.get_by_role("button", name="Decide").click()
        moderator.wait_for_url(f"{alpha}/manage/queue/")
        expect(moderator.locator(".messages")).to_contain_text("Done: approve.")
        expect(moderator.locator("article.review-item", has_text=BODY)).to_have_count(0)

        # 4. The post appears to the other member, who reports it as an urgent risk of harm.
        reader.goto(topic_url)
        opening = reader.locator("article.post").first
        expect(opening).to_contain_text(BODY)
        opening.get_by_role("link", name="Report").click()
        reader.wait_for_url(re.compile(r"/p/\d+/report/$"))
        reader.get_by_role("radio", name=re.compile(r"Urgent risk of harm")).check()
        reader.get_by_label(re.compile(r"Anything the moderators should know")).fill("She sounds desperate")
        reader.get_by_role("button", name="Send the report").click()
        reader.wait_for_url(re.compile(rf"^{re.escape(topic_url)}#post-\d+$"))
        expect(reader.locator(".messages")).to_contain_text("The moderators will look at this post.")

        # 5. The on-call moderator's email went out over SMTP.
        deadline = time.monotonic() + 10
        urgent: list[tuple[list[str], str, str]] = []
        while time.monotonic() < deadline and not urgent:
            urgent = [m for m in smtp_inbox.messages if "Urgent" in m[1]]
            time.sleep(0.1)
        assert [m[0] for m in urgent] == [[cast_of.moderator]], smtp_inbox.messages
        assert "/manage/queue/" in cast(str, urgent[0][2])

        # ...and the report sits on top of the moderator's queue, marked as medium risk.
        moderator.goto(f"{alpha}/manage/queue/")
        expect(moderator.locator("article.review-item").first).to_contain_text("Medium risk")
    finally:
        for context in contexts:
            context.close()
