"""Hygiene of the short texts people show each other: display names, titles, tag, community and
partner names.

One rule everywhere, checked by each service that writes such a name: control characters,
text-direction overrides and invisible (zero-width) characters are refused (code ``invalid``, the
details naming the field, like every other malformed value). They let one name pass for another
("admin" with a zero-width space) or reverse the text around it (an RLO in a topic title). A
zero-width joiner inside an emoji sequence (👩‍⚕️) is kept: there it is part of the picture, not hidden text.
"""

from __future__ import annotations

import unicodedata

from core.errors import InvalidInput

ZERO_WIDTH_JOINER = "\u200d"
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = frozenset("\u00ad\u034f\u115f\u1160\u180e\u200b\u200c\u2060\u2061\u2062\u2063\u2064\u3164\ufeff\uffa0")
_EMOJI_PARTS = frozenset({"So", "Sk"})


def _emoji_side(char: str) -> bool:
    return unicodedata.category(char) in _EMOJI_PARTS or char == "\ufe0f"


def collapse_whitespace(value: str | None) -> str:
    """Every name and title is one line: runs of whitespace (tabs, newlines, line separators) become
    one space, so they are normalised rather than refused."""
    return " ".join((value or "").split())


def hidden_character(value: str) -> str | None:
    """The first character a reader would not see (or that would turn the text around), if any.
    Whitespace is not judged here: callers collapse it first (``collapse_whitespace``)."""
    for index, char in enumerate(value):
        if char.isspace():
            continue
        if char == ZERO_WIDTH_JOINER:
            between_emoji = (
                0 < index < len(value) - 1 and _emoji_side(value[index - 1]) and _emoji_side(value[index + 1])
            )
            if not between_emoji:
                return char
            continue
        category = unicodedata.category(char)
        if category in {"Cc", "Cs", "Zl", "Zp"} or char in _BIDI_CONTROLS or char in _INVISIBLE:
            return char
    return None


def hidden_character_message(value: str) -> str | None:
    char = hidden_character(value)
    return None if char is None else f"Remove the hidden or control character U+{ord(char):04X}."


def check_visible_text(value: str, *, field: str, label: str = "This text") -> None:
    message = hidden_character_message(value)
    if message is not None:
        raise InvalidInput(f"{label} contains a hidden or control character.", details={field: [message]})
