"""Member-written Markdown to safe HTML, rendered once on write and stored beside the source.

Raw HTML in the source is not markup here: the renderer shows it as the text it is (``<b>`` stays
the four characters a member typed). Passing it through and removing it afterwards lost text: an
unclosed ``<script>`` or ``<textarea>`` swallowed everything after it. Every tag in the output is one
Markdown itself made, and nh3 still keeps only an allow-list of tags and attributes (a second
line of defence: everything not listed, every ``on*`` attribute and ``style`` is dropped), and
links keep only http(s)/mailto URLs, so ``javascript:`` and ``data:`` URLs never survive, however
they are encoded.
"""

from __future__ import annotations

import html

import markdown as markdown_lib
import nh3
from markdown.extensions import Extension

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


class _RawHtmlAsText(Extension):
    """Python-Markdown without its raw-HTML block and inline passthrough (it then escapes ``<``)."""

    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        # Images are not allowed; as links their alt text and address stay readable instead of vanishing.
        for name in ("image_link", "image_reference", "short_image_ref"):
            if name in md.inlinePatterns:
                md.inlinePatterns.deregister(name)


def render_markdown(text: str) -> str:
    """Markdown source → sanitized HTML safe to insert into a page unescaped."""
    raw = markdown_lib.markdown(text, extensions=["fenced_code", "sane_lists", _RawHtmlAsText()], output_format="html")
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
