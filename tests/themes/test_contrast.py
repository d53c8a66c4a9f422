"""The WCAG 2.2 contrast validator against pairs whose ratios are well known."""

from __future__ import annotations

import pytest

from themes.contrast import (
    check_pair,
    contrast_ratio,
    format_ratio,
    nearest_passing_shade,
    passes_aa,
    theme_checks,
)


@pytest.mark.parametrize(
    ("foreground", "background", "ratio", "passes"),
    [
        ("#000000", "#ffffff", "21.00:1", True),
        ("#ffffff", "#ffffff", "1.00:1", False),
        ("#777777", "#ffffff", "4.48:1", False),  # the classic near miss
        ("#767676", "#ffffff", "4.54:1", True),  # the lightest grey that passes on white
        ("#ffffff", "#e07a5f", "2.95:1", False),  # the old default accent under white text
        ("#ffffff", "#f2a65a", "2.02:1", False),  # a demo partner's old accent
        ("#ffffff", "#3aa76d", "3.03:1", False),  # another demo partner's old accent
        ("#ffffff", "#0000ff", "8.59:1", True),
    ],
)
def test_known_pairs(foreground, background, ratio, passes):
    assert format_ratio(contrast_ratio(foreground, background)) == ratio
    assert passes_aa(foreground, background) is passes


def test_ratio_is_symmetric():
    assert contrast_ratio("#2f5d8a", "#fbfaf7") == contrast_ratio("#fbfaf7", "#2f5d8a")


def test_a_failing_ratio_never_reads_as_passing():
    assert format_ratio(4.4999) == "4.49:1"
    assert format_ratio(4.5) == "4.50:1"


@pytest.mark.parametrize("colour", ["#777777", "#e07a5f", "#f2a65a", "#3aa76d", "#ffff00", "#ffffff"])
def test_suggestion_on_white_is_a_darker_shade_that_passes_and_is_nearest(colour):
    suggestion = nearest_passing_shade(colour, against="#ffffff")
    assert passes_aa(suggestion, "#ffffff")
    assert contrast_ratio(suggestion, "#ffffff") < 4.7  # nearest: no needless darkening
    assert suggestion != colour


def test_suggestion_against_dark_text_is_lighter():
    suggestion = nearest_passing_shade("#555555", against="#1d1d1f")
    assert passes_aa(suggestion, "#1d1d1f")
    assert int(suggestion[1:3], 16) > 0x55


def test_a_passing_colour_is_its_own_suggestion():
    assert nearest_passing_shade("#767676", against="#ffffff") == "#767676"


def test_grey_777_gets_767676():
    assert nearest_passing_shade("#777777", against="#ffffff") == "#767676"


def test_check_pair_message_names_ratio_and_fix():
    check = check_pair(
        label="White text on the accent colour", field="accent_colour", colour="#E07A5F", against="#ffffff"
    )
    assert not check.passes
    assert "2.95:1" in check.message
    assert "4.5:1" in check.message
    assert check.suggestion in check.message
    assert passes_aa(check.suggestion, "#ffffff")


def test_malformed_colours_are_refused():
    with pytest.raises(ValueError):
        contrast_ratio("red", "#ffffff")


def test_theme_checks_cover_every_shown_pair():
    checks = theme_checks(primary="#2f5d8a", secondary="#3b6e4f", accent="#e07a5f", background="#fbfaf7")
    failing = [check.field for check in checks if not check.passes]
    assert failing == ["accent_colour"]
    assert {check.field for check in checks} == {
        "primary_colour",
        "secondary_colour",
        "accent_colour",
        "background_colour",
    }
