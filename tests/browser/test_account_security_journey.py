"""Account security in a real browser: a forgotten password reset from the emailed link, ending signed
in on a partner through the hand-off; and a partner admin walked through two-factor enrolment on
first use of /manage/, then signing in again with a code from the authenticator app."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

from members.models import Member, MembershipRole, TenantMembership
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]

NEW_PASSWORD = "a-fresh-and-long-passphrase"


def _header(page: Any) -> Any:
    return page.locator("header.site")


def _field(page: Any, label: str) -> Any:
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def _member(tenant: Any, role: str, name: str) -> Member:
    email = f"{name.lower()}-{secrets.token_hex(4)}@{COMMITTED_EMAIL_DOMAIN}"
    member: Member = MemberFactory(email=email, display_name=name)  # type: ignore[assignment]
    TenantMembership.objects.create(member=member, tenant=tenant, role=role)
    return member


def _sign_in_form(page: Any, email: str, password: str) -> None:
    _field(page, "Email").fill(email)
    _field(page, "Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()


def _code(secret: str, at: float | None = None) -> str:
    return format_hotp_value(hotp_value(secret, int(at if at is not None else time.time()) // 30))


def test_forgotten_password_reset_then_signed_in_on_a_partner(page: Any, live_site: Any, tenant_a: Any) -> None:
    from playwright.sync_api import expect

    root, alpha = live_site.root, live_site.host(TENANT_A["domain"])
    member = _member(tenant_a, MembershipRole.MEMBER, "Rowan")
    mail.outbox.clear()

    page.goto(f"{alpha}/")
    _header(page).get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/login/\?"))
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url(f"{root}/accounts/password/reset/")
    _field(page, "Email").fill(member.email)
    page.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    sent = [m for m in mail.outbox if m.to == [member.email] and "/accounts/password/reset/key/" in m.body]
    assert len(sent) == 1, [(m.subject, m.to) for m in mail.outbox]
    found = re.search(r"https?://\S+/accounts/password/reset/key/\S+", str(sent[0].body))
    assert found is not None, sent[0].body
    link = found.group(0)
    assert link.startswith(f"{root}/"), link

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert "/key/" in page.url and "set-password" in page.url  # the key left the address bar
    _field(page, "New password").fill(NEW_PASSWORD)
    _field(page, "New password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()

    # The link is spent.
    page.goto(link)
    expect(page.get_by_role("heading", name="This reset link does not work")).to_be_visible()

    # Back on the partner: the old password no longer works, the new one does, and the hand-off lands here.
    page.goto(f"{alpha}/")
    _header(page).get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/login/\?"))
    _sign_in_form(page, member.email, PASSWORD)
    expect(page.locator("main")).to_contain_text("That email and password do not match an account.")
    _sign_in_form(page, member.email, NEW_PASSWORD)
    page.wait_for_url(f"{alpha}/")
    expect(_header(page).locator(".who")).to_have_text("Rowan")


def test_partner_admin_enrols_two_factor_on_first_use_and_signs_in_with_a_code(
    page: Any, live_site: Any, tenant_a: Any
) -> None:
    from playwright.sync_api import expect

    root, alpha = live_site.root, live_site.host(TENANT_A["domain"])
    admin = _member(tenant_a, MembershipRole.ADMIN, "Avery")

    # First use of /manage/: sign in with the password, then the root walks the admin to enrolment.
    page.goto(f"{alpha}/manage/")
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/login/\?"))
    _sign_in_form(page, admin.email, PASSWORD)
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/2fa/totp/activate/\?"))
    expect(page.locator(".mfa-required")).to_contain_text("Your role needs two-factor authentication")
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    enrolled_at = time.time()
    _field(page, "Code from the app").fill(_code(secret, enrolled_at))
    page.get_by_role("button", name="Turn on two-factor").click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/2fa/recovery-codes/\?"))
    codes = page.locator("pre.recovery-codes").inner_text().split()
    assert len(codes) == 10
    page.get_by_role("link", name="I have saved my codes: continue").click()
    page.wait_for_url(f"{alpha}/manage/")
    expect(page.get_by_role("heading", name="Manage communities")).to_be_visible()

    # Sign out everywhere; signing in again asks for a code (a fresh one: a code works only once).
    _header(page).get_by_role("button", name="Sign out").click()
    page.goto(f"{alpha}/manage/")
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/login/\?"))
    _sign_in_form(page, admin.email, PASSWORD)
    page.wait_for_url(f"{root}/accounts/2fa/authenticate/")
    code_box = page.locator("input[name=code]")
    code_box.fill("000000")
    page.locator("main").get_by_role("button", name="Sign In").click()
    expect(page.locator("main")).to_contain_text("Incorrect code")
    while int(time.time()) // 30 == int(enrolled_at) // 30:
        time.sleep(0.5)
    page.locator("input[name=code]").fill(_code(secret))
    page.locator("main").get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{alpha}/manage/")
    expect(page.get_by_role("heading", name="Manage communities")).to_be_visible()
    expect(_header(page).locator(".who")).to_have_text("Avery")
