"""Issue 18 in a real browser: a partner's session cookie, copied into another browser on the root or
on a second partner, is worth nothing there (signed out, and the cookie is cleared)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A, TENANT_B
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]

NAME = "Cookie Keeper"


def _header(page: Any) -> Any:
    return page.locator("header.site")


def _expect_signed_in(page: Any) -> None:
    from playwright.sync_api import expect

    expect(_header(page).locator(".who")).to_have_text(NAME)
    expect(_header(page).get_by_role("button", name="Sign out")).to_be_visible()


def _expect_signed_out(page: Any) -> None:
    from playwright.sync_api import expect

    expect(_header(page).get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    expect(_header(page).locator(".who")).to_have_count(0)
    expect(_header(page).get_by_role("button", name="Sign out")).to_have_count(0)


def _session_cookie(context: Any, domain: str) -> dict[str, Any] | None:
    return next(
        (c for c in context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME and c["domain"] == domain), None
    )


def test_a_partner_cookie_is_signed_out_on_the_root_and_on_another_partner(
    page: Any, browser: Any, browser_context: Any, live_site: Any
) -> None:
    from playwright.sync_api import expect

    root, alpha, beta = live_site.root, live_site.host(TENANT_A["domain"]), live_site.host(TENANT_B["domain"])
    email = f"cookie-{secrets.token_hex(5)}@{COMMITTED_EMAIL_DOMAIN}"
    MemberFactory(email=email, display_name=NAME)

    # Sign in on the root, then hop to partner A through the hand-off.
    page.goto(f"{root}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{root}/")
    _expect_signed_in(page)
    page.goto(f"{alpha}/")
    _expect_signed_out(page)
    _header(page).get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/auth/handoff/\?"))
    page.get_by_role("button", name=f"Continue to {TENANT_A['name']}").click()
    page.wait_for_url(f"{alpha}/")
    _expect_signed_in(page)

    stolen = _session_cookie(browser_context, TENANT_A["domain"])
    assert stolen is not None and stolen["httpOnly"]

    # The same cookie value, planted in a fresh browser for the root and for partner B.
    for domain, url in ((settings.ROOT_DOMAIN, root), (TENANT_B["domain"], beta)):
        other = browser.new_context()
        try:
            other.add_cookies([{"name": stolen["name"], "value": stolen["value"], "domain": domain, "path": "/"}])
            assert _session_cookie(other, domain) is not None
            intruder = other.new_page()
            intruder.goto(f"{url}/")
            _expect_signed_out(intruder)
            # The refused cookie is cleared, and the API agrees nobody is signed in.
            assert _session_cookie(other, domain) is None, other.cookies()
            other.add_cookies([{"name": stolen["name"], "value": stolen["value"], "domain": domain, "path": "/"}])
            # Chromium itself resolves *.localhost; Playwright's own HTTP client does not, so ask the page.
            status = intruder.evaluate("fetch('/api/v1/me/').then(response => response.status)")
            assert status == 401
            assert _session_cookie(other, domain) is None
        finally:
            other.close()

    # And in a fresh browser on partner A itself the cookie is what it always was: A's session.
    same = browser.new_context()
    try:
        same.add_cookies(
            [{"name": stolen["name"], "value": stolen["value"], "domain": TENANT_A["domain"], "path": "/"}]
        )
        again = same.new_page()
        again.goto(f"{alpha}/")
        _expect_signed_in(again)
    finally:
        same.close()

    # The member's own browser is untouched by all this.
    page.reload()
    _expect_signed_in(page)
    expect(page.locator(".messages")).to_have_count(0)
