"""Policy text: staff-written Markdown rendered once to sanitized HTML (nh3), stored beside the source."""

from __future__ import annotations

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "a", "h2", "h3", "h4", "hr"}
)
CLEAN_CONTENT_TAGS = frozenset({"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea"})


def render_policy_markdown(text: str) -> str:
    raw = markdown_lib.markdown(text, extensions=["sane_lists"], output_format="html")
    return nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
