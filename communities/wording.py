"""A post's words: what the forum itself writes into or about members' posts.

Quotes, mentions, the stand-ins for removed posts and erased authors, and the refusals about posts
that several modules show (services, pages, API). One wording here keeps a re-rendered quote after
an erasure identical to one written at posting time, and a page's message identical to the API's.
"""

from __future__ import annotations

import re

from members.selectors import FORMER_MEMBER_NAME

# An erased author's posts are kept under this name (the same words members.selectors shows).
FORMER_MEMBER = FORMER_MEMBER_NAME
# ... and ``@name`` mentions of them become this handle.
FORMER_HANDLE = "@former-member"
REMOVED_TEXT = "[removed]"
REMOVED_HTML = "<p>[removed]</p>"

QUOTE_ELSEWHERE = "You can only quote a post of this topic."
ANSWER_ELSEWHERE = "Choose a reply in this topic."
POST_REMOVED = "This post was removed."
POST_HELD = (
    "Thanks! Your post is awaiting review: a moderator looks at new members' first posts before others see them."
)

# Unicode word characters: "@José" works; the look-behind skips e-mail addresses ("me@example.org").
MENTION_RE = re.compile(r"(?<![\w@])@([\w.\-]{2,80})")
_CODE_RE = re.compile(r"<(pre|code)\b[^>]*>.*?</\1>", re.DOTALL | re.IGNORECASE)


def quote_markdown(*, author_name: str, body_markdown: str) -> str:
    """The blockquote a reply starts with: "Anna wrote:" and the quoted post's lines."""
    lines = body_markdown.splitlines() or [""]
    return f"{author_name} wrote:\n\n" + "\n".join(f"> {line}" if line else ">" for line in lines)


def mentioned_names(body_html: str) -> set[str]:
    """Lower-cased ``@names`` in the rendered post, outside code (rendered HTML marks code reliably)."""
    text = _CODE_RE.sub(" ", body_html)
    return {name.rstrip(".-").lower() for name in MENTION_RE.findall(text)}


def handle_of(name: str) -> str:
    """The ``@handle`` a name is mentioned by ("Anna K." -> "annak"): spaces gone, lower case,
    trailing dots and hyphens dropped (notifications matches the same rule in SQL)."""
    return name.replace(" ", "").lower().rstrip(".-")


def mention_of(handle: str) -> re.Pattern[str]:
    """``@handle`` as written in a post (any case, trailing dots or hyphens), not inside a longer word."""
    return re.compile(rf"(?<![\w@])@{re.escape(handle)}[.\-]*(?![\w])", re.IGNORECASE)
