"""The privacy journey in a real browser: choose settings, download my data, delete my account.

Celery runs eagerly in the live server's threads (the suite's default), so the export is ready when
its page first loads; the worker path is covered by test_privacy_worker.py.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from typing import Any

import pytest

from members.models import Member
from privacy.models import ErasureRequest, ErasureStatus
from tests.browser.conftest import (  # noqa: F401 - the browser fixtures, shared
    _live_server_helper,
    browser,
    browser_context,
    live_site,
    page,
)
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def _field(page: Any, label: str) -> Any:  # noqa: F811
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def test_settings_export_and_deletion_in_a_browser(page, live_site, settings, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    settings.KINDRED_EXPORTS_DIR = str(tmp_path / "exports")
    email = f"privacy-browser-{secrets.token_hex(4)}@{COMMITTED_EMAIL_DOMAIN}"
    from tests.factories import MemberFactory

    member = MemberFactory(email=email, display_name="Browsing Bea")
    root = live_site.root

    page.goto(f"{root}/accounts/login/?next=/accounts/privacy/")
    _field(page, "Email").fill(email)
    _field(page, "Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{root}/accounts/privacy/")

    # Nothing is ticked until I tick it.
    for label in ("Show my conditions on my profile", "List me in the member lists of communities I join"):
        expect(_field(page, label)).not_to_be_checked()
    _field(page, "List me in the member lists of communities I join").check()
    page.get_by_role("button", name="Save privacy settings").click()
    expect(page.locator(".messages")).to_contain_text("Your privacy settings are saved.")
    expect(_field(page, "List me in the member lists of communities I join")).to_be_checked()
    member.refresh_from_db()
    assert (member.listed_in_member_lists, member.show_conditions) == (True, False)

    page.get_by_role("button", name="Prepare my data").click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/privacy/exports/[0-9a-f-]+/$"))
    expect(page.locator(".status")).to_have_attribute("data-status", "ready")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download ZIP").click()
    path = download_info.value.path()
    with zipfile.ZipFile(io.BytesIO(open(path, "rb").read())) as archive:
        account = json.loads(archive.read("account.json"))
        assert account["profile"]["email"] == email
        assert account["privacy_settings"]["listed_in_member_lists"] is True
        assert "Browsing Bea" in archive.read("index.html").decode()

    page.goto(f"{root}/accounts/delete/")
    _field(page, "Your password").fill("not my password")
    page.get_by_label("Keep my posts, shown as written by “A former member”").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("main")).to_contain_text("That password is not right.")
    assert Member.objects.filter(pk=member.pk, is_active=True).exists()

    _field(page, "Your password").fill(PASSWORD)
    page.get_by_label("Keep my posts, shown as written by “A former member”").check()
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/deleted/"))
    expect(page.locator(".status")).to_have_attribute("data-status", "done")
    expect(page.locator("header.site")).to_contain_text("Sign in")
    assert not Member.objects.filter(pk=member.pk).exists()
    ErasureRequest.objects.filter(status=ErasureStatus.DONE, member=None, keep_posts=True).delete()
