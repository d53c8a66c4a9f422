"""The main identity journey in a real browser: sign up from a partner, confirm the email, hop to a
second partner through the root domain, join it, and sign out everywhere.

It checks what only a browser can: host-only cookies kept apart per host, redirects across hosts,
CSRF on real form posts, and that a sign-out on one host ends the sessions of all the others.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail

from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A, TENANT_B

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DISPLAY_NAME = "Journey Tester"
PREFERRED_CONDITIONS = ("Systemic Lupus Erythematosus", "Lupus Erythematosus, Systemic")


def _header(page: Any) -> Any:
    return page.locator("header.site")


def _expect_signed_out(page: Any) -> None:
    from playwright.sync_api import expect

    expect(_header(page).get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    expect(_header(page).get_by_role("button", name="Sign out")).to_have_count(0)
    expect(_header(page).locator(".who")).to_have_count(0)


def _expect_signed_in(page: Any) -> None:
    from playwright.sync_api import expect

    expect(_header(page).locator(".who")).to_have_text(DISPLAY_NAME)
    expect(_header(page).get_by_role("button", name="Sign out")).to_be_visible()
    expect(_header(page).get_by_role("link", name="Sign in", exact=True)).to_have_count(0)


def _mail_to(address: str, subject_start: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to and m.subject.startswith(subject_start)]


def _outbox_summary() -> list[tuple[str, list[str]]]:
    return [(str(m.subject), list(m.to)) for m in mail.outbox]


def _field(page: Any, label: str) -> Any:
    """A form field by its visible label (Django renders "Label:" with its label suffix)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def _choose_condition(page: Any) -> str | None:
    """Select a lupus condition by its visible label (or the first one); None if the list is empty."""
    select = _field(page, "Conditions")
    labels = [label.strip() for label in select.locator("option").all_text_contents()]
    if not labels:
        return None
    chosen = next((label for label in PREFERRED_CONDITIONS if label in labels), labels[0])
    select.select_option(label=chosen)
    return chosen


def test_sign_up_verify_hop_join_and_sign_out_everywhere(
    page: Any, browser_context: Any, live_site: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from members.models import Member, TenantMembership

    root, alpha, beta = live_site.root, live_site.host(TENANT_A["domain"]), live_site.host(TENANT_B["domain"])
    email = f"journey-{secrets.token_hex(5)}@{COMMITTED_EMAIL_DOMAIN}"
    navigations: list[str] = []
    page.on("request", lambda request: navigations.append(request.url) if request.is_navigation_request() else None)
    mail.outbox.clear()

    # 1. Sign up from partner A: the form lives on the root domain and names the partner.
    page.goto(f"{alpha}/")
    expect(page.get_by_role("heading", name=TENANT_A["name"], exact=True)).to_be_visible()
    _expect_signed_out(page)
    _header(page).get_by_role("link", name="Sign up", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/signup/\?"))
    expect(page.locator("main")).to_contain_text(f"You will join {TENANT_A['name']}")
    _field(page, "Email").fill(email)
    _field(page, "Password").fill(PASSWORD)
    _field(page, "Display name").fill(DISPLAY_NAME)
    _field(page, "I am a").select_option(label="Patient")
    condition = _choose_condition(page)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.locator("main")).to_contain_text(email)

    member = Member.objects.get(email=email)
    assert not member.email_verified
    assert member.signup_tenant is not None and member.signup_tenant.slug == TENANT_A["slug"]
    assert member.role == "patient"
    if condition is not None:
        assert [c.name for c in member.conditions.all()] == [condition]

    # 2. The verification email. The live server runs in a thread of this process: eager Celery sent
    #    it from there (on commit, as no transaction wraps the request) into this process's outbox.
    sent = _mail_to(email, "Confirm your email")
    assert len(sent) == 1, f"expected one verification email to {email}, outbox: {_outbox_summary()}"
    links = re.findall(r"https?://\S+/accounts/verify/\S+", sent[0].body)
    assert len(links) == 1, sent[0].body
    link = links[0]
    assert link.startswith(f"{root}/accounts/verify/"), link

    navigations.clear()
    page.goto(link)
    page.wait_for_url(f"{alpha}/")
    # Signed in on the root, then carried to the partner by the one-time hand-off.
    handoff_issue = next((i for i, url in enumerate(navigations) if url.startswith(f"{root}/auth/handoff/?")), None)
    handoff_done = next(
        (i for i, url in enumerate(navigations) if url.startswith(f"{alpha}/auth/handoff/complete/?")), None
    )
    assert handoff_issue is not None and handoff_done is not None and handoff_issue < handoff_done, navigations
    assert f"host={TENANT_A['domain']}" in navigations[handoff_issue]
    _expect_signed_in(page)
    expect(page.locator(".membership")).to_have_text(f"You are a member of {TENANT_A['name']}.")
    member.refresh_from_db()
    assert member.email_verified
    # Joining A (on verification) ran the join hook: A's welcome email, sent from A's schema.
    assert len(_mail_to(email, f"Welcome to {TENANT_A['name']}")) == 1, _outbox_summary()

    # 3. Partner B: sign in through the root, which asks before telling B who this is; then join.
    page.goto(f"{beta}/")
    _expect_signed_out(page)
    _header(page).get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/auth/handoff/\?"))
    expect(page.get_by_role("heading", name=f"Continue to {TENANT_B['name']}?")).to_be_visible()
    assert not TenantMembership.objects.filter(member=member, tenant__slug=TENANT_B["slug"]).exists()
    page.get_by_role("button", name=f"Continue to {TENANT_B['name']}").click()
    page.wait_for_url(f"{beta}/")
    _expect_signed_in(page)
    expect(page.locator(".membership")).to_have_count(0)
    page.get_by_role("button", name=f"Join {TENANT_B['name']}", exact=True).click()
    page.wait_for_url(f"{beta}/")
    expect(page.locator(".messages")).to_contain_text(f"Welcome to {TENANT_B['name']}!")
    expect(page.locator(".membership")).to_have_text(f"You are a member of {TENANT_B['name']}.")
    assert set(TenantMembership.objects.filter(member=member).values_list("tenant__slug", flat=True)) == {
        TENANT_A["slug"],
        TENANT_B["slug"],
    }

    # 4. One host-only session per host; nothing is shared on the parent domain.
    cookies = browser_context.cookies()
    assert not [c for c in cookies if c["domain"].startswith(".")], cookies
    sessions = [c for c in cookies if c["name"] == settings.SESSION_COOKIE_NAME]
    assert sorted(c["domain"] for c in sessions) == sorted(
        [settings.ROOT_DOMAIN, TENANT_A["domain"], TENANT_B["domain"]]
    ), sessions
    assert len({c["value"] for c in sessions}) == 3
    assert all(c["httpOnly"] for c in sessions)

    # 5. Signing out on B ends the sessions on A and on the root too.
    _header(page).get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{beta}/")
    expect(page.locator(".messages")).to_contain_text("You are signed out everywhere.")
    _expect_signed_out(page)
    page.goto(f"{alpha}/")
    _expect_signed_out(page)
    expect(page.locator(".membership")).to_have_count(0)
    page.goto(f"{root}/")
    _expect_signed_out(page)
    page.reload()
    _expect_signed_out(page)

    screenshot = tmp_path / "identity-journey.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0
