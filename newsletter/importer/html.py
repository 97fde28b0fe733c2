"""A post's HTML (a Substack export) → sanitised sections in Markdown. Pure Python: no Django, no database.

The HTML is untrusted: the Substack page furniture (subscribe and share widgets, buttons, embeds) and every
script, style, form and frame are removed, the rest goes through nh3 with the tags Markdown can say (only
http(s) and mailto links, no attributes but href, no event handlers, no styles), then markdownify writes
Markdown. (Not markup.sanitise_html: markup uses Django's translations, and this parser is pure. What the
Markdown becomes is sanitised again by markup when it is rendered, like everything an editor writes.)

Headings (h1–h4) start sections; the text before the first heading is a section
of its own, without a heading. Images are left out (an imported issue's images are added in the admin, with
their alt text); a figure's caption stays as text.
"""

import nh3
from bs4 import BeautifulSoup
from markdownify import MarkdownConverter

from newsletter.importer.parsed import ParsedLink, ParsedSection

DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "form", "input", "button", "select",
             "textarea", "template", "svg", "math", "head", "meta", "link", "title", "canvas", "video", "audio",
             "img", "picture", "source")  # fmt: skip
# Substack's own furniture in a post's body: subscribe boxes, share and comment buttons, embedded posts.
DROP_CLASSES = ("subscription-widget", "subscribe-widget", "button-wrapper", "share", "embedded-post", "footer",
                "image-link", "post-ufi", "paywall")  # fmt: skip
HEADINGS = ("h1", "h2", "h3", "h4")
# What Markdown can say; nothing else survives. Links keep their address only.
KEEP_TAGS = {"a", "b", "strong", "i", "em", "p", "br", "ul", "ol", "li", "blockquote", "pre", "code", "hr", *HEADINGS}
KEEP_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitise(html):
    return nh3.clean(html, tags=KEEP_TAGS, attributes=KEEP_ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=None)


class _Converter(MarkdownConverter):
    """escape_misc: text that looks like markup (an escaped "&lt;script&gt;", a stray "<a href=…" after an unclosed
    comment) stays text in the Markdown (\\<script\\>), never raw HTML for the renderer to meet."""

    def __init__(self, **options):
        super().__init__(
            heading_style="atx", bullets="-", autolinks=False, strong_em_symbol="*", escape_misc=True, **options
        )


def _furniture(tag):
    classes = tag.get("class") or ()
    return any(drop in cls for cls in classes for drop in DROP_CLASSES)


def _clean(html):
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_furniture):
        if not tag.decomposed:
            tag.decompose()
    return BeautifulSoup(sanitise(str(soup)), "html.parser")


def _markdown(nodes):
    html = "".join(str(node) for node in nodes)
    text = _Converter().convert(html) if html.strip() else ""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out = []
    for line in lines:  # at most one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _links(nodes):
    found, seen = [], set()
    for node in nodes:
        anchors = [node] if getattr(node, "name", None) == "a" else getattr(node, "find_all", lambda *_: [])("a")
        for a in anchors:
            href = (a.get("href") or "").strip()
            if href.startswith(("http://", "https://")) and href not in seen:
                seen.add(href)
                found.append(ParsedLink(url=href, title=" ".join(a.get_text(" ").split())[:300] or href))
    return found


def html_sections(html):
    """The post's sections (ParsedSection, kind article), in order; empty ones are left out."""
    soup = _clean(html)
    groups, heading, nodes = [], None, []
    for node in list(soup.contents):
        if getattr(node, "name", None) in HEADINGS:
            groups.append((heading, nodes))
            heading, nodes = " ".join(node.get_text(" ").split())[:300] or None, []
        else:
            nodes.append(node)
    groups.append((heading, nodes))
    sections = []
    for heading, group in groups:
        body = _markdown(group)
        if heading or body:
            sections.append(
                ParsedSection(
                    heading=heading, kind="article", body_markdown=body, source=None, event=None, links=_links(group)
                )
            )
    return sections
