"""Member-written Markdown to safe HTML, rendered once on write and stored beside the source.

Markdown is rendered first (raw HTML in the source passes through the renderer), then nh3 keeps only
an allow-list of tags and attributes. Everything not listed (script, style, iframe, img, object,
forms, every ``on*`` attribute, ``style``) is dropped, and links keep only http(s)/mailto URLs, so
``javascript:`` and ``data:`` URLs never survive, however they are encoded.
"""

from __future__ import annotations

import html

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "a", "h3", "h4", "h5", "h6", "hr"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Members' links are untrusted: search engines should not credit them, and the target page must not
# reach back into ours.
LINK_REL = "nofollow noopener noreferrer ugc"
# Tags whose content is dropped with them (nh3 would otherwise keep the text of e.g. <script>).
CLEAN_CONTENT_TAGS = frozenset({"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea"})


def render_markdown(text: str) -> str:
    """Markdown source → sanitized HTML safe to insert into a page unescaped."""
    raw = markdown_lib.markdown(text, extensions=["fenced_code", "sane_lists"], output_format="html")
    return nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_plain(text: str) -> str:
    """Plain text (titles, tag names) escaped for HTML: no markup at all is interpreted."""
    return html.escape(text, quote=True)
