"""The trials journey in a real browser: search by condition near a place, open a trial, sign in, save it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import (  # noqa: F401 (fixtures)
    _live_server_helper,
    browser,
    browser_context,
    live_site,
    page,
)
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A
from tests.trials.conftest import OWN_FIXTURES

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def maria(committed_db: None, tenant_a: Any) -> Iterator[Any]:
    from conditions.models import Condition
    from tests.factories import MemberFactory, TenantMembershipFactory
    from trials.models import Trial
    from trials.services import import_paths

    Trial.objects.filter(nct_id__startswith="NCT9").delete()
    import_paths(paths=[OWN_FIXTURES])
    member: Any = MemberFactory(
        email=f"trials-browser-{secrets.token_hex(4)}@{COMMITTED_EMAIL_DOMAIN}",
        display_name="Maria Trials",
        region="Boston",
        birth_year=1980,
    )
    member.conditions.set([Condition.objects.get(mesh_id="D009103")])
    TenantMembershipFactory(member=member, tenant=tenant_a)
    yield member
    Trial.objects.filter(nct_id__startswith="NCT9").delete()


def test_search_open_sign_in_and_save(page, live_site, maria):  # noqa: F811 (fixtures imported above)
    from playwright.sync_api import expect

    from trials.models import SavedTrial

    alpha = live_site.host(TENANT_A["domain"])
    page.goto(f"{alpha}/trials/")
    page.get_by_label("Condition").fill("multiple sclerosis")
    page.get_by_label("Near (city, postcode or lat,lon)").fill("New York")
    page.get_by_label("Within (miles)").fill("250")
    page.get_by_role("button", name="Search").click()
    results = page.locator(".trial-row")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Nearest site 190 mi (306 km)")

    results.first.get_by_role("link", name="Remyelination Drug in Relapsing MS").click()
    expect(page.get_by_role("heading", name="Remyelination Drug in Relapsing MS", level=1)).to_be_visible()
    rows = page.locator("table.sites tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Massachusetts General Hospital")
    expect(rows.nth(2)).to_contain_text("no location")
    expect(page.get_by_role("link", name="See this study on ClinicalTrials.gov")).to_have_attribute(
        "href", "https://clinicaltrials.gov/study/NCT90000001"
    )

    page.get_by_role("link", name="Sign in to save this trial").click()
    page.wait_for_url(re.compile(rf"^{re.escape(live_site.root)}/accounts/login/\?"))
    page.locator("main").get_by_label("Email").fill(maria.email)
    page.locator("main").get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{alpha}/trials/NCT90000001/")
    expect(page.locator("#eligibility")).to_contain_text("you may fit this trial's basic limits")
    # Sites are now nearest first from her profile's region.
    expect(page.locator("#sites")).to_contain_text("Nearest first from Boston, Massachusetts, US.")

    page.get_by_role("button", name="Save and follow this trial").click()
    expect(page.locator(".messages")).to_contain_text("Saved: we will tell you when its status changes.")
    assert list(SavedTrial.objects.filter(member=maria).values_list("trial__nct_id", flat=True)) == ["NCT90000001"]
    page.goto(f"{alpha}/trials/saved/")
    expect(page.locator("#saved")).to_contain_text("Remyelination Drug in Relapsing MS")
