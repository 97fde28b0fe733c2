"""Pasted HTML (Word, Outlook, Google Docs, web pages) → clean Markdown for a section's body.

Kept: headings (as level 3 and 4, under the section's own level-2 heading), paragraphs, bulleted and
numbered lists (Word's `mso-list` paragraphs become real lists), links, bold and italic, images with an
http(s) address. Dropped: styles, fonts, classes, Word's `mso-` markup and conditional comments, `<o:p>`,
scripts, event handlers, `javascript:` and other non-web links (their text stays), images embedded as
base64 (a note says so: upload them on the section's page), tracking parameters (utm_*, fbclid, gclid…) and
empty paragraphs. The converter is markdownify (pinned in requirements.txt) on BeautifulSoup; the result goes
through markup.markdown_problems like everything an editor writes, and is refused if anything is left.

`convert(html)` returns a Conversion (markdown, notes, seconds) or raises PasteRefused with the message for
the editor. Over MAX_PASTE_CHARS it refuses at once, so a runaway paste never ties up a worker.
"""

import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bs4 import BeautifulSoup, Comment, Declaration, ProcessingInstruction
from markdownify import MarkdownConverter

from newsletter.markup import markdown_problems

MAX_PASTE_CHARS = 2_000_000  # twice a 1 MB Word paste, under Django's 2.5 MB request limit; more is refused
MAX_MARKDOWN_CHARS = 200_000
DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "form", "input", "button", "select",
             "textarea", "template", "svg", "math", "head", "meta", "link", "title", "xml", "canvas", "video",
             "audio", "frame", "frameset", "applet")  # fmt: skip
TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|ocid)$", re.I)
SAFE_SCHEMES = ("http", "https", "mailto")
# Word's own markup, removed before parsing (cheap on a megabyte, and the parser then sees far less).
WORD_LIST_MARKER = re.compile(r"<!(?:--)?\[if !supportLists\](?:--)?>(.*?)<!(?:--)?\[endif\](?:--)?>", re.S | re.I)
CONDITIONAL = re.compile(r"<!--\[if.*?<!\[endif\]-->|<!\[if[^\]]*\]>|<!\[endif\]>", re.S | re.I)
STYLE_BLOCKS = re.compile(r"<(style|xml|script)\b.*?</\1\s*>", re.S | re.I)
OFFICE_TAGS = re.compile(r"</?[ovwm]:[^>]*>", re.I)
EMBEDDED_IMAGE = re.compile(r"<img\b[^>]*?src\s*=\s*[\"']?\s*data:[^>]*>", re.S | re.I)
ORDERED_MARKER = re.compile(r"^\s*(\(?[0-9]+|[a-z]{1,3}|[ivxlc]+)[.)]", re.I)
MSO_LEVEL = re.compile(r"level(\d)")


class PasteRefused(ValueError):
    pass


@dataclass
class Conversion:
    markdown: str
    notes: list = field(default_factory=list)
    seconds: float = 0.0


class _Converter(MarkdownConverter):
    """markdownify with the site's choices: ATX headings, "-" bullets, no <autolinks> (escaped `<` stays text)."""

    def __init__(self, **options):
        super().__init__(heading_style="atx", bullets="-", autolinks=False, strong_em_symbol="*", **options)


def _marker(match):
    text = re.sub(r"<[^>]+>", "", match.group(1)).replace("&nbsp;", " ")
    kind = "ol" if ORDERED_MARKER.match(text) else "ul"
    return f'<span data-list="{kind}"></span>'


def _clean_url(href):
    href = (href or "").strip()
    parts = urlsplit(href)
    if parts.scheme.lower() not in SAFE_SCHEMES:
        return None
    if parts.query:
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)]
        parts = parts._replace(query=urlencode(query))
    return urlunsplit(parts)


def _word_lists(soup):
    """Consecutive Word list paragraphs (style="mso-list:l0 level1 lfo1") become <ul>/<ol>, nested by level."""
    for paragraph in soup.find_all("p"):
        if paragraph.parent is None or "mso-list" not in (paragraph.get("style") or ""):
            continue
        run = [paragraph]
        node = paragraph.find_next_sibling()
        while node is not None and node.name == "p" and "mso-list" in (node.get("style") or ""):
            run.append(node)
            node = node.find_next_sibling()
        marker = paragraph.find("span", attrs={"data-list": True})
        top = soup.new_tag(marker["data-list"] if marker else "ul")
        paragraph.insert_before(top)
        stack = [(1, top)]
        for item in run:
            level_match = MSO_LEVEL.search(item.get("style") or "")
            level = int(level_match.group(1)) if level_match else 1
            item_marker = item.find("span", attrs={"data-list": True})
            while level > stack[-1][0] and stack[-1][1].contents:
                sub = soup.new_tag(item_marker["data-list"] if item_marker else "ul")
                stack[-1][1].contents[-1].append(sub)
                stack.append((stack[-1][0] + 1, sub))
            while level < stack[-1][0] and len(stack) > 1:
                stack.pop()
            if item_marker:
                item_marker.decompose()
            li = soup.new_tag("li")
            for child in list(item.contents):
                li.append(child.extract())
            stack[-1][1].append(li)
            item.decompose()


def _tidy(soup, notes):
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    for node in soup.find_all(string=lambda s: isinstance(s, (Comment, Declaration, ProcessingInstruction))):
        node.extract()
    _word_lists(soup)
    dropped_links = 0
    for tag in soup.find_all(True):
        style = (tag.get("style") or "").replace(" ", "").lower()
        if tag.name in ("b", "strong") and "font-weight:normal" in style:  # Google Docs wraps everything in one
            tag.unwrap()
            continue
        if tag.name == "span" and re.search(r"font-weight:(bold|[6-9]00)", style):
            tag.name = "strong"
        elif tag.name == "span" and "font-style:italic" in style:
            tag.name = "em"
        if tag.name in ("h1", "h2", "h3"):
            tag.name = "h3"
        elif tag.name in ("h4", "h5", "h6"):
            tag.name = "h4"
        if tag.name == "a":
            href = _clean_url(tag.get("href"))
            if href is None:
                if tag.get("href"):
                    dropped_links += 1
                tag.unwrap()
                continue
            tag.attrs = {"href": href}
        elif tag.name == "img":
            src = _clean_url(tag.get("src"))
            if src is None or src.startswith("mailto:"):
                tag.decompose()
                continue
            tag.attrs = {"src": src, "alt": (tag.get("alt") or "").strip()}
        else:
            tag.attrs = {}
    for paragraph in soup.find_all(["p", "div", "li", "h3", "h4"]):
        if not paragraph.get_text().replace("\xa0", " ").strip() and not paragraph.find("img"):
            paragraph.decompose()
    if dropped_links:
        notes.append(f"{dropped_links} link(s) that were not web or email addresses were removed (their text stays).")


def convert(html: str) -> Conversion:
    """Pasted HTML → clean, safe Markdown (see the module's docstring)."""
    if len(html) > MAX_PASTE_CHARS:
        raise PasteRefused(
            f"That paste is {len(html) / 1_000_000:.1f} MB of markup, more than this screen converts "
            f"({MAX_PASTE_CHARS // 1_000_000} MB). Paste it in parts, or as plain text (Ctrl+Shift+V)."
        )
    started = time.perf_counter()
    notes = []
    html, embedded = EMBEDDED_IMAGE.subn("", html)
    if embedded:
        notes.append(
            f"{embedded} embedded image(s) were left out: upload images on the section's own page, with alt text."
        )
    html = WORD_LIST_MARKER.sub(_marker, html)
    html = STYLE_BLOCKS.sub("", html)
    html = CONDITIONAL.sub("", html)
    html = OFFICE_TAGS.sub("", html)
    soup = BeautifulSoup(html, "html.parser")
    _tidy(soup, notes)
    markdown = _Converter().convert_soup(soup)
    markdown = markdown.replace("\xa0", " ").replace("<", "&lt;")
    markdown = re.sub(r"[ \t]+\n", "\n", markdown)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip()
    if len(markdown) > MAX_MARKDOWN_CHARS:
        raise PasteRefused("That paste is too long for one section: split it into several sections.")
    problems = markdown_problems(markdown)
    if problems:  # nothing should be left after the clean-up; if something is, it is not stored
        raise PasteRefused("The pasted text could not be made safe: " + " ".join(problems))
    return Conversion(markdown, notes, time.perf_counter() - started)
