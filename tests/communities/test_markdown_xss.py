"""Member-written text renders inert: classic XSS vectors in bodies, titles and tag names."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.template import Context, Template

from communities import services
from communities.markdown import render_markdown, render_plain
from communities.models import ModerationSettings, Post, TagKind, TopicKind

pytestmark = pytest.mark.django_db

# Written for this suite after the OWASP XSS filter evasion cheat sheet: raw HTML, attribute and
# URL tricks, encodings, and the same through Markdown's own link/image syntax.
VECTORS = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert('XSS')>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">entities</a>',
    '<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)">hex</a>',
    '<a href=" &#14;  javascript:alert(1)">spaces</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    "[click me](javascript:alert(1))",
    "[click me](JAVASCRIPT:alert(1))",
    "[click me](javascript&#58;alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    '![img](x" onerror="alert(1))',
    "[ref]: javascript:alert(1)\n\n[link][ref]",
    '<https://ok.example/" onmouseover="alert(1)>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<div style=\"width: expression(alert('XSS'));\">expr</div>",
    "<style>@import 'https://xss.example/x.css';</style>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<strong onmouseover="alert(1)">hover</strong>',
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    "<blockquote onfocus=alert(1) autofocus>q</blockquote>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<<script>alert(1);//<</script>",
    "<div><img src=x onerror=alert(1)",
    "<!--<script>alert(1)</script>-->",
    "<details open ontoggle=alert(1)>",
    "`<code>` is fine but <video><source onerror=alert(1)></video>",
    '<base href="javascript:alert(1)//">',
    "<link rel=stylesheet href=javascript:alert(1)>",
]
assert len(VECTORS) >= 30

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_inert(html: str) -> None:
    """Parsed as a browser would: only allowed tags, no event/style attributes, links only to
    http(s)/mailto (after entity decoding), and no raw <script anywhere."""
    assert "<script" not in html.lower()
    collector = _Collector()
    collector.feed(html)
    collector.close()
    for tag, attrs in collector.elements:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert name in {"href", "rel"}, name
            if name == "href":
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in {"http", "https", "mailto"}, value
                assert "javascript:" not in (value or "").lower() and "data:" not in (value or "").lower()


@pytest.mark.parametrize("vector", VECTORS)
def test_render_markdown_is_inert(vector):
    assert_inert(render_markdown(vector))
    assert_inert(render_markdown(f"Intro paragraph\n\n> {vector}\n\n- item {vector}"))


@pytest.mark.parametrize("vector", VECTORS)
def test_plain_text_and_templates_escape(vector):
    assert "<" not in render_plain(vector) and ">" not in render_plain(vector)
    shown = Template("<h1>{{ title }}</h1>").render(Context({"title": vector}))
    assert shown.count("<") == 2  # only the template's own <h1></h1>


def test_safe_markdown_survives():
    html = render_markdown(
        "### Week 2\n\n**Better**, *slowly*. See [the guide](https://example.org/g).\n\n```\nx < y\n```"
    )
    assert html == (
        "<h3>Week 2</h3>\n<p><strong>Better</strong>, <em>slowly</em>. See "
        '<a href="https://example.org/g" rel="nofollow noopener noreferrer ugc">the guide</a>.</p>\n'
        "<pre><code>x &lt; y\n</code></pre>"
    )


def test_vectors_stored_through_the_services_are_inert(world):
    # The vectors are links: let new members post them, so it is the renderer that is tested here.
    ModerationSettings.objects.create(pk=1, new_members_may_link=True)
    for number, vector in enumerate(VECTORS):
        topic = services.create_topic(
            acting_member=world.alice,
            tenant=world.tenant,
            community=world.community,
            kind=TopicKind.UPDATE,
            title=f"T{number} {vector}"[:200],
            body=vector,
            proposed_tag_names=[f"t{number} {vector}"[:60]] if any(c.isalnum() for c in vector) else [],
        )
        reply = services.create_reply(acting_member=world.bob, tenant=world.tenant, topic=topic, body=vector)
        services.create_reply(
            acting_member=world.bob, tenant=world.tenant, topic=topic, body="quoting", quoted_post=reply
        )
        tag = services.propose_tag(
            acting_member=world.alice,
            tenant=world.tenant,
            community=world.community,
            kind=TagKind.SYMPTOM,
            name=f"s{number} {vector}"[:60],
        )
        # Titles and tag names are plain text: stored as written, escaped wherever they are shown.
        for text in (topic.title, tag.name, *topic.tags.values_list("name", flat=True)):
            assert "<" not in render_plain(text)
            assert "<" not in Template("{{ t }}").render(Context({"t": text}))
        assert tag.slug and re.fullmatch(r"[a-z0-9-]+", tag.slug)
    for html in Post.objects.filter(topic__community=world.community).values_list("body_html", flat=True):
        assert_inert(html)
