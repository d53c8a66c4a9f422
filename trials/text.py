"""ClinicalTrials.gov's text fields (brief summary, eligibility criteria) are Markdown: bullets as
``*``, brackets escaped as ``\\[EFC16033\\]``. Rendered once per page to sanitized HTML, so members
read ``[EFC16033]`` and real lists, never the escapes. Raw HTML in the registry's text stays text."""

from __future__ import annotations

import markdown as markdown_lib
import nh3
from markdown.extensions import Extension

from trials.models import OverallStatus

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "h3", "h4", "h5", "h6", "hr"}


class _RawHtmlAsText(Extension):
    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def registry_markdown(text: str) -> str:
    """Registry Markdown → sanitized HTML (no links, images or headings above h3)."""
    if not text:
        return ""
    raw = markdown_lib.markdown(text, extensions=["sane_lists", _RawHtmlAsText()], output_format="html")
    # Headings the registry writes as "#" would outrank the page's own: demoted to h3.
    for level in ("h1", "h2"):
        raw = raw.replace(f"<{level}>", "<h3>").replace(f"</{level}>", "</h3>")
    return nh3.clean(raw, tags=ALLOWED_TAGS, attributes={}, strip_comments=True)


def status_label(code: str) -> str:
    """A registry status code (a study's or a site's) as people say it: RECRUITING → "Recruiting"."""
    value = (code or "").strip().upper()
    if value in OverallStatus.values:
        return str(OverallStatus(value).label)
    return value.replace("_", " ").capitalize() if value else "Not given"
