"""Running text to Markdown: escaping, and URLs and e-mail addresses as links."""

import re
from dataclasses import dataclass

# Spaces that word processors and web pages leave behind.
ODD_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\t]")
ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\ufeff]")
MARKDOWN_ESCAPES = str.maketrans({c: "\\" + c for c in "\\[]_*`"})
TRAILING_PUNCTUATION = ".,;:!?'\"’”"

# Every alternative starts only where a match can begin, so that a long run of address characters is
# scanned once, not once per position (docs/importer.md, "Linear time"): URLs at "http", "www." after no
# word character, and e-mail addresses at the first character of their run (the left-hand lookbehinds
# hold every character of the user part, so no start inside a run is ever tried).
_USER = r"[A-Za-z0-9._%+-]+"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
LINK = re.compile(
    r"<(?P<angle>https?://[^\s<>]+)>"
    r"|(?P<url>https?://[^\s<>]+)"
    r"|(?<![\w/@.-])(?P<www>www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+[^\s<>]*)"
    rf"|(?<![A-Za-z0-9._%+-])(?P<atuser>{_USER})\s*\[\s*at\s*\]\s*(?P<atdomain>{_DOMAIN})"
    rf"|(?<![\w.%+-])(?P<email>{_USER}@{_DOMAIN})",
    re.I,
)


@dataclass(frozen=True)
class FoundLink:
    url: str
    title: str  # the text as it appears in the document


def normalise_spaces(text: str) -> str:
    text = ZERO_WIDTH.sub("", ODD_SPACES.sub(" ", text))
    return " ".join(text.split())


def escape_markdown(text: str) -> str:
    return text.translate(MARKDOWN_ESCAPES)


def _trim_url(url: str) -> str:
    """Drop trailing punctuation, and a closing bracket that the URL did not open (in one pass)."""
    end, opened, closed = len(url), url.count("("), url.count(")")
    while end:
        last = url[end - 1]
        if last == ")" and closed > opened:
            closed -= 1
        elif last not in TRAILING_PUNCTUATION:
            break
        end -= 1
    return url[:end]


def to_markdown(text: str) -> tuple[str, list[FoundLink]]:
    """Escape text for Markdown and turn its addresses into autolinks; return the links found."""
    out, links, pos = [], [], 0
    for m in LINK.finditer(text):
        start, end = m.span()
        if m["angle"]:
            url = title = m["angle"]
            markdown = f"<{url}>"
        elif m["url"] or m["www"]:
            raw = _trim_url(m["url"] or m["www"])
            if not raw or (m["www"] and "." not in raw[4:]):
                continue
            end = start + len(raw)
            title = raw
            if m["www"]:
                url = f"http://{raw}"
                markdown = f"[{escape_markdown(raw)}]({url})"
            else:
                url = raw
                markdown = f"<{url}>"
        elif m["atuser"]:
            address = f"{m['atuser']}@{m['atdomain']}"
            url, title, markdown = f"mailto:{address}", m.group(0), f"<{address}>"
        else:
            address = m["email"]
            url, title, markdown = f"mailto:{address}", address, f"<{address}>"
        out.append(escape_markdown(text[pos:start]))
        out.append(markdown)
        links.append(FoundLink(url, title))
        pos = end
    out.append(escape_markdown(text[pos:]))
    return "".join(out), links


def has_link(text: str) -> bool:
    return LINK.search(text) is not None
