"""Markdown → sanitised HTML: the one way text becomes markup, for web and email.

A leaf: it imports no model and nothing else of the app. Imported and editor text is
untrusted, so Markdown output always passes through nh3 (`markdown_to_html`), and
`markdown_problems` tells an editor what the sanitiser would strip instead of losing it silently.
"""

import re
from html import unescape
from html.parser import HTMLParser

import markdown
import nh3
from django.utils.translation import gettext

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr",
    "i", "img", "li", "ol", "p", "pre", "strong", "sub", "sup", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "abbr": {"title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def markdown_to_html(text: str) -> str:
    if not text:
        return ""
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    return sanitise_html(html)


# Markdown the sanitiser would strip ---------------------------------------------------------

DANGEROUS_TAGS = {"script", "style", "iframe", "object", "embed", "form", "input", "button", "link", "meta", "base"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}
SAFE_SCHEMES = ("http:", "https:", "mailto:", "#", "/")


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_TAGS:
            self.problems.append(gettext("<%(tag)s> elements are not allowed.") % {"tag": tag})
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(gettext("Event handlers such as %(name)s= are not allowed.") % {"name": name})
            elif name in URL_ATTRIBUTES and value:
                cleaned = "".join(value.split()).lower()
                if ":" in cleaned.split("/")[0] and not cleaned.startswith(SAFE_SCHEMES):
                    scheme = cleaned.split(":", 1)[0]
                    self.problems.append(
                        gettext("Links must use http, https or mailto, not “%(scheme)s:”.") % {"scheme": scheme}
                    )


def markdown_problems(text: str) -> list[str]:
    """What in this Markdown would not survive sanitising, once each, in order."""
    if not text:
        return []
    finder = _Finder()
    finder.feed(markdown.markdown(text, extensions=["sane_lists"]))
    return list(dict.fromkeys(finder.problems))


# Text from outside (feeds, mail) ----------------------------------------------------------

_BLOCK_END = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6]|/tr|/blockquote)\b[^>]{0,200}>", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\s*\n\s*\n\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]])")
_LINE_START = re.compile(r"^([^\S\n]*)(\d*)([#+\-=|.)])", re.MULTILINE)


def html_to_text(html: str) -> str:
    """Untrusted HTML (or plain text) → plain text: tags and scripts dropped, entities decoded, paragraphs kept."""
    text = _BLOCK_END.sub("\n", html or "")
    return tidy_text(unescape(nh3.clean(text, tags=set(), clean_content_tags={"script", "style"}, attributes={})))


def tidy_text(text: str) -> str:
    """Plain text with control characters gone, runs of spaces single, at most one blank line between paragraphs."""
    text = _CONTROL.sub(" ", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    return _BLANK_LINES.sub("\n\n", _SPACES.sub(" ", text)).strip()


def one_line(text: str, limit: int) -> str:
    """Plain text on one line, at most `limit` characters (cut at a word, with an ellipsis)."""
    return shorten(" ".join(_CONTROL.sub(" ", text or "").split()), limit)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at the last space before it when there is one, ending in "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def text_as_markdown(text: str) -> str:
    """Plain text → Markdown that shows just that text: no markup, links or HTML can come out of it."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(r"\1\2\\\3", text)  # no heading, list or rule from a line's start
