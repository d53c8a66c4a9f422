"""The theme journey in a real browser (issue 14): partner A's admin changes the primary colour on
/manage/theme/ and publishes a resource page through the Wagtail admin; a member of A sees the new
colour (computed style) and the page at once; partner B's pages are unchanged. Screenshots of both
themed home pages are saved as test artefacts (KINDRED_TEST_ARTIFACTS, default tests/artifacts/).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A, TENANT_B

pytestmark = [pytest.mark.browser, pytest.mark.integration]

NEW_PRIMARY = "#5b3a8c"
NEW_PRIMARY_RGB = "rgb(91, 58, 140)"
PAGE_TITLE = "Questions to ask about fatigue"


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("KINDRED_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class Cast:
    admin_email: str
    admin_totp: str
    member_email: str
    token: str


def _theme_values(theme: Any) -> dict[str, str]:
    return {f: getattr(theme, f) for f in ("primary_colour", "secondary_colour", "accent_colour", "background_colour")}


@pytest.fixture
def cast_of(committed_db: None, tenant_a: Any, tenant_b: Any) -> Iterator[Cast]:
    from django_tenants.utils import tenant_context
    from wagtail.models import Page

    from members.models import Member, MembershipRole
    from members.services import join_tenant, set_membership_role
    from tenants.db import use_public_schema
    from tests.factories import MemberFactory
    from themes.models import Theme
    from themes.selectors import theme_for

    token = secrets.token_hex(4)
    before = {tenant.pk: _theme_values(theme_for(tenant=tenant)) for tenant in (tenant_a, tenant_b)}
    staff = cast(Member, MemberFactory(email=f"theme-staff-{token}@{COMMITTED_EMAIL_DOMAIN}", is_superuser=True))
    admin = cast(Member, MemberFactory(email=f"theme-admin-{token}@{COMMITTED_EMAIL_DOMAIN}", display_name="Ada Admin"))
    member = cast(Member, MemberFactory(email=f"theme-member-{token}@{COMMITTED_EMAIL_DOMAIN}", display_name="Mo"))
    try:
        with tenant_context(tenant_a):
            join_tenant(member=admin, tenant=tenant_a)
            # Through the service that keeps the tenant's Wagtail groups in step with the role.
            set_membership_role(
                acting_member=staff, tenant=tenant_a, member=admin, role=MembershipRole.ADMIN, reason="theme test"
            )
            join_tenant(member=member, tenant=tenant_a)
        use_public_schema()
        secret = generate_totp_secret()
        TOTP.activate(admin, secret)
        yield Cast(admin_email=admin.email, admin_totp=secret, member_email=member.email, token=token)
    finally:
        with tenant_context(tenant_a):
            for page in Page.objects.filter(title=PAGE_TITLE):
                page.delete()
        use_public_schema()
        for tenant_id, values in before.items():
            Theme.objects.filter(tenant_id=tenant_id).update(**values)


def _context(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return context


def _sign_in(context: Any, *, root: str, host: str, email: str, totp_secret: str = "") -> Any:
    page = context.new_page()
    page.goto(f"{host}/")
    page.locator("header.site").get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/login/\?"))
    page.get_by_label(re.compile(r"^Email:?$")).fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    if totp_secret:
        page.wait_for_url(f"{root}/accounts/2fa/authenticate/")
        page.locator("input[name=code]").fill(format_hotp_value(hotp_value(totp_secret, int(time.time()) // 30)))
        page.locator("main").get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{host}/")
    return page


def _header_background(page: Any) -> str:
    return cast(str, page.evaluate("getComputedStyle(document.querySelector('header.site')).backgroundColor"))


def test_admin_rebrands_and_publishes_member_sees_it_other_tenant_unchanged(
    browser: Any, live_site: Any, cast_of: Cast, tenant_a: Any
) -> None:
    from django_tenants.utils import tenant_context
    from playwright.sync_api import expect
    from wagtail.models import Site

    from cms.models import ResourceIndexPage
    from tenants.db import use_public_schema

    with tenant_context(tenant_a):
        # The partner's resource library (provisioning makes it), else the site's root page.
        library = ResourceIndexPage.objects.first()
        parent_id = library.pk if library else Site.objects.get(is_default_site=True).root_page_id
    use_public_schema()

    root, alpha, beta = live_site.root, live_site.host(TENANT_A["domain"]), live_site.host(TENANT_B["domain"])
    admin_context, member_context, visitor_context = _context(browser), _context(browser), _context(browser)
    try:
        visitor = visitor_context.new_page()
        visitor.goto(f"{beta}/")
        beta_before = _header_background(visitor)
        assert beta_before != NEW_PRIMARY_RGB

        # 1. The admin changes the primary colour on the theme page of their own site.
        admin = _sign_in(
            admin_context, root=root, host=alpha, email=cast_of.admin_email, totp_secret=cast_of.admin_totp
        )
        admin.goto(f"{alpha}/manage/theme/")
        admin.locator("#id_primary_colour").fill(NEW_PRIMARY)
        admin.get_by_role("button", name="Save theme").click()
        expect(admin.locator(".messages")).to_contain_text("Theme saved")
        assert _header_background(admin) == NEW_PRIMARY_RGB

        # A pair that fails is refused with the measured ratio and a fix.
        admin.locator("#id_accent_colour").fill("#e07a5f")
        admin.get_by_role("button", name="Save theme").click()
        expect(admin.locator("main")).to_contain_text("2.95:1")
        expect(admin.locator("main")).to_contain_text("Try #")

        # 2. ... and publishes a resource page in the Wagtail admin.
        admin.goto(f"{alpha}/admin/pages/add/cms/resourcepage/{parent_id}/")
        admin.locator("#id_title").fill(PAGE_TITLE)
        admin.locator("#id_summary").fill("What to note down before your next appointment.")
        admin.get_by_role("button", name=re.compile("More actions")).click()
        admin.get_by_role("button", name=re.compile(r"^Publish")).click()
        admin.wait_for_url(re.compile(rf"^{re.escape(alpha)}/admin/pages/{parent_id}/"))

        # 3. A member of A sees the new colour and the page, at once.
        member = _sign_in(member_context, root=root, host=alpha, email=cast_of.member_email)
        assert _header_background(member) == NEW_PRIMARY_RGB
        link_colour = member.evaluate("getComputedStyle(document.querySelector('main a')).color")
        assert link_colour == NEW_PRIMARY_RGB
        member.locator("header.site").get_by_role("link", name="Resources").click()
        member.get_by_role("link", name=PAGE_TITLE).click()
        expect(member.get_by_role("heading", level=1)).to_have_text(PAGE_TITLE)
        assert _header_background(member) == NEW_PRIMARY_RGB
        page_path = member.url.removeprefix(alpha)
        member.goto(f"{alpha}/")
        member.screenshot(path=str(artifacts_dir() / "themed-home-tenant-a.png"), full_page=True)

        # 4. Partner B is unchanged, and does not have A's page.
        visitor.goto(f"{beta}/")
        assert _header_background(visitor) == beta_before
        visitor.screenshot(path=str(artifacts_dir() / "themed-home-tenant-b.png"), full_page=True)
        missing = visitor.goto(f"{beta}{page_path}")
        assert missing is not None and missing.status == 404
    finally:
        for context in (admin_context, member_context, visitor_context):
            context.close()


def test_phone_header_is_one_line_with_an_accessible_menu(browser: Any, live_site: Any, committed_db: None) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{live_site.host(TENANT_A['domain'])}/")
        header = page.locator("header.site")
        toggle = header.get_by_role("button", name="Menu")
        expect(toggle).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        nav = header.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        # Brand and button share one line: the closed header is one row high, and nothing overflows.
        bar = page.evaluate(
            "(() => { const b = document.querySelector('header.site .bar').getBoundingClientRect();"
            " return {height: b.height, width: document.documentElement.scrollWidth}; })()"
        )
        assert bar["height"] < 60 and bar["width"] <= 375

        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(nav).to_be_visible()
        expect(nav.get_by_role("link", name="Trials")).to_be_visible()
        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(nav).to_be_hidden()
    finally:
        context.close()
