"""A Markdown file with front matter → a ParsedIssue. Pure Python: no Django, no database.

    ---
    title: Weekly update 12
    date: 2024-03-01
    newsletter: weekly-update
    tags: [housing, transport]        # or one "- item" per line
    summary: What changed this week.
    ---
    Text before the first heading.

    ## A section
    Its text, with [links](https://example.org).

The front matter is the small YAML subset above, read by this module (no YAML library: no anchors, tags or
objects, linear time): `key: value` lines, values plain or quoted, lists in brackets or as `- item` lines,
`#` comments. title is required; date is YYYY-MM-DD (day) or YYYY-MM (month); newsletter, tags and summary are
optional; any other key is refused, so a typo is not silently lost. A first `# Title` line repeating the title
is dropped. `##` and `###` headings start sections; the text before the first is a section without a heading.
The summary becomes the intro. The content hash is the SHA-256 of the whole file.
"""

import datetime
import hashlib
import re

from newsletter.importer.parsed import ParsedIssue, ParsedLink, ParsedSection

KEYS = ("title", "date", "newsletter", "tags", "summary")
MAX_FRONT_MATTER_LINES = 200
MAX_TITLE = 300
MAX_TAGS = 50
KEY_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]{0,40})\s*:\s?(.*)$")
HEADING = re.compile(r"^(#{2,3})[ \t]+(.+?)[ \t]*#*[ \t]*$")
FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"\[([^\[\]\n]{0,300})\]\((https?://[^\s()<>]{1,2000})(?:[ \t]+\"[^\"\n]{0,300}\")?\)")
COMMENT = re.compile(r"[ \t]#")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")


class FrontMatterError(ValueError):
    """The file cannot be imported; the message says where and why (the caller adds the file name)."""


def _scalar(text, line_no):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].replace('\\"', '"') if text[0] == '"' else text[1:-1].replace("''", "'")
    if text[:1] in "\"'":
        raise FrontMatterError(f"line {line_no}: a quote is not closed")
    comment = COMMENT.search(text)
    return (text[: comment.start()] if comment else text).strip()


def _list(text, line_no):
    inner = text.strip()[1:-1]
    return [v for v in (_scalar(part, line_no) for part in inner.split(",")) if v]


def _front_matter(lines):
    """({key: value}, index of the first body line) from lines starting with ---."""
    values, current = {}, None
    for n, line in enumerate(lines[1:], 2):
        if n > MAX_FRONT_MATTER_LINES:
            raise FrontMatterError(f"the front matter has no closing --- within {MAX_FRONT_MATTER_LINES} lines")
        stripped = line.strip()
        if stripped == "---":
            return values, n
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("- ") and current is not None:
            if not isinstance(values[current], list):
                raise FrontMatterError(f"line {n}: a list item under “{current}”, which has a value already")
            values[current].append(_scalar(stripped[2:], n))
            continue
        m = KEY_LINE.match(line)
        if not m:
            raise FrontMatterError(f"line {n}: write key: value (“{stripped[:40]}”)")
        key, value = m[1].lower(), m[2].strip()
        if key not in KEYS:
            raise FrontMatterError(f"line {n}: unknown key “{key}”; the keys are {', '.join(KEYS)}")
        if key in values:
            raise FrontMatterError(f"line {n}: “{key}” is given twice")
        if not value:
            values[key], current = [], key
        elif value.startswith("[") and value.endswith("]"):
            values[key], current = _list(value, n), None
        else:
            values[key], current = _scalar(value, n), None
    raise FrontMatterError("the front matter (from the first ---) is never closed with ---")


def _date(value):
    if not value:
        return None, None
    if not isinstance(value, str):
        raise FrontMatterError("date: one date, like 2024-03-01")
    try:
        if re.fullmatch(r"\d{4}-\d{2}", value):
            return datetime.date.fromisoformat(f"{value}-01").isoformat(), "month"
        return datetime.date.fromisoformat(value[:10]).isoformat(), "day"
    except ValueError:
        raise FrontMatterError(f"date: “{value[:30]}” is not a date like 2024-03-01 or 2024-03") from None


def _text(values, key):
    value = values.get(key) or ""
    if isinstance(value, list):
        raise FrontMatterError(f"{key}: one line of text, not a list")
    return " ".join(value.split())


def _sections(lines):
    sections, heading, body, fenced = [], None, [], False

    def close():
        text = "\n".join(body).strip()
        if heading or text:
            found = {url: ParsedLink(url, " ".join(title.split()) or url) for title, url in LINK.findall(text)}
            links = list(found.values())
            sections.append(ParsedSection(heading, "article", text, None, None, links))

    for line in lines:
        if FENCE.match(line):
            fenced = not fenced
        m = None if fenced else HEADING.match(line)
        if m:
            close()
            heading, body = m[2].strip()[:300], []
        else:
            body.append(line.rstrip())
    close()
    return sections


def parse_markdown(text, *, source, newsletter=None):
    """The file as a ParsedIssue; its front matter's newsletter unless `newsletter` is given. FrontMatterError."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("no front matter: the file must start with a line --- (see docs/importer.md)")
    values, start = _front_matter(lines)
    title = _text(values, "title")[:MAX_TITLE]
    if not title:
        raise FrontMatterError("the front matter has no title")
    slug = newsletter or _text(values, "newsletter")
    if slug and not SLUG.match(slug):
        raise FrontMatterError(f"newsletter: “{slug[:50]}” is not a newsletter slug (lower case, digits, -)")
    tags = values.get("tags") or []
    tags = [" ".join(t.split())[:100] for t in ([tags] if isinstance(tags, str) else tags) if t.strip()]
    if len(tags) > MAX_TAGS:
        raise FrontMatterError(f"tags: {len(tags)} tags; at most {MAX_TAGS}")
    date, precision = _date(values.get("date"))
    body = lines[start:]
    while body and not body[0].strip():
        body = body[1:]
    if body and body[0].lstrip("# ").strip() == title and body[0].startswith("# "):
        body = body[1:]
    sections = _sections(body)
    return ParsedIssue(
        source=source,
        newsletter=slug or "",
        title=title,
        date=date,
        date_precision=precision,
        category=None,
        tags=tags,
        intro=_text(values, "summary") or None,
        sign_off=None,
        sections=sections,
        links=list(dict.fromkeys(link.url for s in sections for link in s.links)),
        comments=[],
        content_hash=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
    )
