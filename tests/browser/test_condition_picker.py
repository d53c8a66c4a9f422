"""The sign-up condition picker in a real browser (issue 14): a type-ahead with everyday names over
the taxonomy, driven by the keyboard, that fills the plain multi-select the form submits (the select
alone is the fallback without JavaScript)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_type_ahead_finds_lay_names_and_fills_the_select(page: Any, live_site: Any, committed_db: None) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_site.root}/accounts/signup/")
    combobox = page.get_by_role("combobox", name="Conditions")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    expect(page.locator("select#id_condition_ids")).to_be_hidden()

    combobox.fill("ms")
    expect(combobox).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("option", name="MS (multiple sclerosis)")).to_be_visible()
    combobox.press("ArrowDown")
    combobox.press("Enter")
    expect(page.get_by_role("button", name="Remove MS (multiple sclerosis)")).to_be_visible()

    # MeSH words and synonyms find the everyday name too.
    combobox.fill("neoplasms breast")
    page.get_by_role("option", name="Breast cancer", exact=True).click()
    chosen = page.evaluate(
        "Array.from(document.querySelector('#id_condition_ids').selectedOptions).map(o => o.textContent)"
    )
    assert sorted(chosen) == ["Breast cancer", "MS (multiple sclerosis)"]

    page.get_by_role("button", name="Remove Breast cancer").click()
    chosen = page.evaluate(
        "Array.from(document.querySelector('#id_condition_ids').selectedOptions).map(o => o.textContent)"
    )
    assert chosen == ["MS (multiple sclerosis)"]
