"""Re-consent in a real browser: a member agrees to research sharing, staff publish a version that
materially changes it, and the member's next visit (here on a partner host) shows the interstitial;
the gate says no until they answer and yes once they agree again.
"""

from __future__ import annotations

import datetime
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.db import connection
from django.utils import timezone

from consent.models import ConsentPolicy, ConsentPurpose, ConsentRecord
from consent.selectors import members_consenting_to
from consent.services import detach_member, publish_policy
from members.models import Member
from tenants.services import schema_name_for
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]

RESEARCH = "research-data-sharing"
CHANGE = "Research sharing now includes genomic data."


@pytest.fixture
def consent_cleanup(live_site: Any) -> Iterator[list[Any]]:
    """Committed policies and ledger rows would change every later test's version numbers.

    The ledger refuses DELETE by design; the test database's owner lifts the trigger for this cleanup
    only (an application connection never does), then members are detached so that the session's
    committed-member eraser can delete them.
    """
    members: list[Any] = []
    yield members
    for member in members:
        detach_member(member=member)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE public.consent_consentrecord DISABLE TRIGGER USER")
        try:
            cursor.execute("DELETE FROM public.consent_consentrecord")
            cursor.execute("DELETE FROM public.consent_consentsubject")
            cursor.execute("DELETE FROM public.consent_policypurpose")
            cursor.execute("DELETE FROM public.consent_consentpolicy")
        finally:
            cursor.execute("ALTER TABLE public.consent_consentrecord ENABLE TRIGGER USER")


def _sign_in(page: Any, root: str, email: str, next_path: str = "/") -> None:
    page.goto(f"{root}/accounts/login/?next={next_path}")
    page.get_by_label(re.compile(r"^Email:?$")).fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_material_change_asks_again_on_the_next_visit(browser: Any, page: Any, live_site: Any, consent_cleanup):
    from playwright.sync_api import expect

    assert not ConsentPolicy.objects.exists(), "a committed test left consent policies behind"
    token = secrets.token_hex(4)
    member = cast(
        Member, MemberFactory(email=f"reconsent-{token}@{COMMITTED_EMAIL_DOMAIN}", display_name="Reconsent Tester")
    )
    staff_email = f"reconsent-staff-{token}@{COMMITTED_EMAIL_DOMAIN}"
    staff = cast(Member, MemberFactory(email=staff_email, is_staff=True, is_superuser=True))
    consent_cleanup.extend([member, staff])
    staff_secret = generate_totp_secret()
    TOTP.activate(staff, staff_secret)
    purposes = list(ConsentPurpose.objects.filter(active=True))
    research = next(p for p in purposes if p.code == RESEARCH)
    publish_policy(
        text_markdown="## Version one",
        effective_at=timezone.now() - datetime.timedelta(hours=1),
        change_summary="First version.",
        purposes=purposes,
    )
    root, alpha = live_site.root, live_site.host(TENANT_A["domain"])

    # 1. The member agrees to research sharing on their Privacy & consent page (one click).
    _sign_in(page, root, member.email, "/accounts/profile/")
    page.wait_for_url(f"{root}/accounts/profile/")
    page.get_by_role("link", name="Privacy & consent").click()
    page.wait_for_url(f"{root}/accounts/consent/")
    item = page.locator(f'li.consent-purpose[data-purpose="{RESEARCH}"]')
    expect(item.locator(".state")).to_contain_text("Not asked yet (no)")
    item.get_by_role("button", name="Agree").click()
    page.wait_for_url(f"{root}/accounts/consent/")
    expect(item.locator(".state")).to_contain_text("You agreed")
    expect(item.get_by_role("button", name="Withdraw")).to_be_visible()
    assert list(members_consenting_to(RESEARCH).values_list("pk", flat=True)) == [member.pk]

    # 2. Staff publish version 2 in the admin, materially changing research sharing.
    staff_context = browser.new_context()
    staff_context.set_default_timeout(15_000)
    try:
        staff_page = staff_context.new_page()
        _sign_in(staff_page, root, staff.email, "/admin/consent/consentpolicy/add/")
        # Staff use the admin only with two-factor (issue 9): a code from their authenticator app.
        staff_page.wait_for_url(f"{root}/accounts/2fa/authenticate/")
        staff_page.locator("input[name=code]").fill(format_hotp_value(hotp_value(staff_secret, int(time.time()) // 30)))
        staff_page.locator("main").get_by_role("button", name="Sign In").click()
        staff_page.wait_for_url(f"{root}/admin/consent/consentpolicy/add/")
        staff_page.locator("#id_text_markdown").fill("## Version two\n\nResearch data now includes genomics.")
        staff_page.locator("#id_change_summary").fill(CHANGE)
        for checkbox in staff_page.locator('input[name="covered"]').all():
            checkbox.check()
        staff_page.locator(f'input[name="material"][value="{research.pk}"]').check()
        staff_page.locator('input[name="_save"]').click()
        staff_page.wait_for_url(f"{root}/admin/consent/consentpolicy/")
    finally:
        staff_context.close()
    v2 = ConsentPolicy.objects.get(version=2)
    assert v2.published_by_id == staff.pk
    assert list(v2.policy_purposes.filter(material_change=True).values_list("purpose__code", flat=True)) == [RESEARCH]
    # Until the member answers, the gate says no.
    assert list(members_consenting_to(RESEARCH)) == []

    # 3. Their next visit, on a partner host: the hand-off, then the interstitial before anything else.
    page.goto(f"{alpha}/auth/login/?next=/")
    page.get_by_role("button", name=f"Continue to {TENANT_A['name']}").click()
    page.wait_for_url(re.compile(rf"^{re.escape(alpha)}/consent/review/\?next=%2F$"))
    expect(page.get_by_role("heading", name="Our consent policy changed")).to_be_visible()
    expect(page.locator(".change-summary")).to_have_text(CHANGE)
    fieldset = page.locator(f'fieldset.reconsent[data-purpose="{RESEARCH}"]')
    yes, no = fieldset.get_by_label("Yes, I agree"), fieldset.get_by_label("No, I do not agree")
    expect(yes).not_to_be_checked()
    expect(no).not_to_be_checked()
    # Browsing elsewhere on the partner host still lands on the interstitial.
    page.goto(f"{alpha}/search/")
    page.wait_for_url(re.compile(rf"^{re.escape(alpha)}/consent/review/\?next=%2Fsearch%2F$"))
    assert list(members_consenting_to(RESEARCH)) == []

    # 4. The member agrees again and lands where they were going.
    page.locator(f'fieldset.reconsent[data-purpose="{RESEARCH}"]').get_by_label("Yes, I agree").check()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url(f"{alpha}/search/")
    expect(page.locator(".messages")).to_contain_text("your choices are saved")
    assert list(members_consenting_to(RESEARCH).values_list("pk", flat=True)) == [member.pk]
    last = ConsentRecord.objects.filter(subject__member=member).order_by("-id").first()
    assert last is not None
    assert (last.decision, last.policy.version, last.tenant_schema, last.channel) == (
        "granted",
        2,
        schema_name_for(TENANT_A["slug"]),
        "web",
    )
    # And no further interstitial.
    page.goto(f"{alpha}/")
    page.wait_for_url(f"{alpha}/")
