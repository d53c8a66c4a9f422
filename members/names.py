"""Which display names may a member take: none that pass for staff, the partner or another member.

Names are compared by a *skeleton*: NFKC, camelCase split, transliterated to ASCII (Cyrillic and
Greek lookalikes become their Latin twins), case-folded, common look-alike digits and symbols mapped
to letters ("0" to "o", "1", "i" and "l" to one letter, "rn" to "m"), and every run of spaces and
punctuation treated as one separator. Two names with the same skeleton read the same to a person.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from anyascii import anyascii

# Single characters a reader takes for a letter; i, l, 1, | and ! all become "l" on both sides.
_LOOKALIKES = str.maketrans(
    {"0": "o", "1": "l", "i": "l", "|": "l", "!": "l", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t"}
)
_LOOKALIKE_PAIRS = (("rn", "m"), ("vv", "w"))
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")

# Words that make a name read as the platform's or the partner's voice.
ROLE_WORDS = (
    "moderator",
    "mod",
    "admin",
    "administrator",
    "staff",
    "official",
    "team",
    "kindred",
    "support",
    "system",
    "owner",
    "helpdesk",
)
# Long enough that a name starting or ending with them ("SarahAdmin", "moderatorjo") is one on purpose;
# the short ones begin real names (Stafford, Modesto) and are refused only as whole words.
_AFFIX_ROLE_WORDS = ("moderator", "admin", "administrator", "official", "kindred", "helpdesk")


def name_tokens(text: str) -> list[str]:
    """The skeleton of ``text`` as words."""
    normalized = _CAMEL.sub(" ", unicodedata.normalize("NFKC", text or ""))
    folded = anyascii(normalized).casefold().translate(_LOOKALIKES)
    for pair, single in _LOOKALIKE_PAIRS:
        folded = folded.replace(pair, single)
    return [token for token in _SEPARATORS.split(folded) if token]


def name_skeleton(text: str) -> str:
    """The skeleton with spacing and punctuation gone: equal skeletons read as the same name."""
    return "".join(name_tokens(text))


_ROLE_SKELETONS = {name_skeleton(word) for word in ROLE_WORDS}
_AFFIX_SKELETONS = tuple(name_skeleton(word) for word in _AFFIX_ROLE_WORDS)


def sounds_official(name: str) -> bool:
    tokens = name_tokens(name)
    squashed = "".join(tokens)
    if squashed in _ROLE_SKELETONS:
        return True
    if any(token in _ROLE_SKELETONS or token.removesuffix("s") in _ROLE_SKELETONS for token in tokens):
        return True
    return any(squashed.startswith(word) or squashed.endswith(word) for word in _AFFIX_SKELETONS)


def resembles_organization(name: str, *, organization_names: Iterable[str]) -> bool:
    """True if ``name`` contains (or, for a very short organization name, is) one of the names."""
    squashed = name_skeleton(name)
    for organization in organization_names:
        skeleton = name_skeleton(organization)
        if not skeleton:
            continue
        if squashed == skeleton or (len(skeleton) >= 6 and skeleton in squashed):
            return True
    return False
