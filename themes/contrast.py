"""WCAG 2.2 colour contrast: the ratio of two sRGB colours, and the nearest shade that passes.

Pure functions (no Django): the theme service, the data migration that repairs stored themes and the
tests all use them. Formulas from WCAG 2.2, "relative luminance" and "contrast ratio".
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass

AA_TEXT = 4.5  # WCAG 2.2 AA, normal-size text (SC 1.4.3)
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

WHITE = "#ffffff"
BLACK = "#000000"

# Fixed colours of every page, that the theme's colours are checked against (templates/base.html).
TEXT_COLOUR = "#1d1d1f"
MUTED_TEXT_COLOUR = "#5c5c66"
ON_BRAND_TEXT = WHITE
CARD_BACKGROUND = WHITE


def parse_hex(colour: str) -> tuple[int, int, int]:
    if not HEX.match(colour or ""):
        raise ValueError(f"not a six-digit hex colour: {colour!r}")
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def to_hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(channel))):02x}" for channel in rgb)


def _linear(channel: int) -> float:
    value = channel / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    red, green, blue = (_linear(channel) for channel in parse_hex(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """From 1 (same colour) to 21 (black on white); symmetric."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def passes_aa(foreground: str, background: str, *, minimum: float = AA_TEXT) -> bool:
    return contrast_ratio(foreground, background) >= minimum


def format_ratio(ratio: float, *, minimum: float = AA_TEXT) -> str:
    """Two decimals; a failing ratio never reads as a passing one (4.497 is "4.49:1", not "4.50:1")."""
    if ratio < minimum <= round(ratio, 2):
        return f"{minimum - 0.01:.2f}:1"
    return f"{ratio:.2f}:1"


def nearest_passing_shade(colour: str, *, against: str, minimum: float = AA_TEXT) -> str:
    """The shade of ``colour`` (same hue and saturation, lightness moved as little as possible) that
    reaches ``minimum`` against the fixed colour ``against``. It moves away from ``against``: darker
    against a light colour, lighter against a dark one. Black or white when no shade of the hue will do.
    """
    if passes_aa(colour, against, minimum=minimum):
        return colour.lower()
    red, green, blue = (channel / 255 for channel in parse_hex(colour))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    darken = relative_luminance(against) > 0.18  # mid-grey: a light partner colour moves darker

    def shade(level: float) -> str:
        r, g, b = colorsys.hls_to_rgb(hue, level, saturation)
        return to_hex((r * 255, g * 255, b * 255))

    # Binary search over lightness between the colour and the far end (0 or 1), then a final check
    # after rounding to hex (rounding can cost a hundredth of the ratio).
    low, high = (0.0, lightness) if darken else (lightness, 1.0)
    for _ in range(30):
        middle = (low + high) / 2
        if passes_aa(shade(middle), against, minimum=minimum):
            low, high = (middle, high) if darken else (low, middle)
        else:
            low, high = (low, middle) if darken else (middle, high)
    best = low if darken else high
    step = -0.002 if darken else 0.002
    for _ in range(500):
        candidate = shade(best)
        if passes_aa(candidate, against, minimum=minimum):
            return candidate
        best = min(1.0, max(0.0, best + step))
    return BLACK if darken else WHITE


@dataclass(frozen=True)
class ContrastCheck:
    """One pair of theme colours shown together: the theme field ``field`` (value ``colour``) against
    the fixed or other colour ``against``, e.g. white text on the primary colour."""

    label: str
    field: str
    colour: str
    against: str
    ratio: float
    suggestion: str  # the nearest passing value of ``field``; equal to ``colour`` when the pair passes
    suggestion_ratio: float

    @property
    def passes(self) -> bool:
        return self.ratio >= AA_TEXT

    @property
    def message(self) -> str:
        return (
            f"{self.label}: contrast {format_ratio(self.ratio)}, but WCAG 2.2 AA needs {AA_TEXT}:1 for text. "
            f"Try {self.suggestion} ({format_ratio(self.suggestion_ratio)})."
        )


def check_pair(*, label: str, field: str, colour: str, against: str) -> ContrastCheck:
    suggestion = nearest_passing_shade(colour, against=against)
    return ContrastCheck(
        label=label,
        field=field,
        colour=colour.lower(),
        against=against.lower(),
        ratio=contrast_ratio(colour, against),
        suggestion=suggestion,
        suggestion_ratio=contrast_ratio(suggestion, against),
    )


def theme_checks(*, primary: str, secondary: str, accent: str, background: str) -> list[ContrastCheck]:
    """Every pair a themed page shows (templates/base.html): white text on the header, buttons,
    badges and footer; links in the primary colour on the page and on white cards; body and muted
    text on the page background."""
    return [
        check_pair(
            label="White text on the primary colour (header, buttons)",
            field="primary_colour",
            colour=primary,
            against=ON_BRAND_TEXT,
        ),
        check_pair(
            label="White text on the secondary colour (footer)",
            field="secondary_colour",
            colour=secondary,
            against=ON_BRAND_TEXT,
        ),
        check_pair(
            label="White text on the accent colour (question badges, highlights)",
            field="accent_colour",
            colour=accent,
            against=ON_BRAND_TEXT,
        ),
        check_pair(
            label="Links (primary colour) on the background colour",
            field="primary_colour",
            colour=primary,
            against=background,
        ),
        check_pair(
            label="Body text on the background colour",
            field="background_colour",
            colour=background,
            against=TEXT_COLOUR,
        ),
        check_pair(
            label="Secondary text on the background colour",
            field="background_colour",
            colour=background,
            against=MUTED_TEXT_COLOUR,
        ),
    ]
