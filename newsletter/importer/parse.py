"""Plain-text past updates to issues. Pure Python: no Django, no database.

The rules are described, with examples, in docs/importer.md. In short: decide
the document's shape (blog dump, tagged blog, titled update, untitled
newsletter, news article with comments), cut it into posts, cut each post into
units (paragraphs and lists), then find headings and group units into sections.
"""

import hashlib
import itertools
import re
from dataclasses import dataclass, field

from newsletter.importer.comments import split_comments
from newsletter.importer.dates import find_date, find_time, parse_date_line, strip_dates
from newsletter.importer.inline import FoundLink, has_link, normalise_spaces, to_markdown
from newsletter.importer.model import ParsedComment, ParsedEvent, ParsedIssue, ParsedLink, ParsedSection

# Linear time on any input (docs/importer.md): every pattern here is anchored or starts at a word, and
# _LAZY is ".+?" that stops only after a non-space, so the "\s*" after it scans a run of spaces once
# (from its last stop), not once from every space in the run. The text matched is the same.
_LAZY = r".(?:.*?\S)??"
FOOTER = re.compile(
    rf"^\s*Posted in (?P<category>{_LAZY})(?:\s*\|\s*Tagged(?P<tags>[^|]*+))?\s*\|\s*"
    r"(?:Leave a comment|\d+ [Cc]omments?|One [Cc]omment|Comments Off)\s*$"
)
POSTS_TAGGED = re.compile(r"^\s*Posts Tagged\s*[‘'\"“](?P<tag>.+?)[’'\"”]\s*$")
LEFTOVER = re.compile(
    r"^\s*(Tags assigned to this article:?|Related Articles|Share this:?|Like this:?|Leave a comment|"
    r"Share on (Facebook|Twitter)|Print this page)\s*$",
    re.I,
)
BULLET = re.compile(r"^(?P<indent>\s*)[-*•◦▪·‣]\s+(?P<text>\S.*)$")
NUMBERED = re.compile(r"^(?P<indent>\s*)(?P<number>\d{1,2})[.)]\s+(?P<text>\S.*)$")
LETTERED = re.compile(r"^(?P<indent>\s*)\(?(?P<letter>[a-z])\)\s+(?P<text>\S.*)$")

CLOSING = re.compile(r"^(?:And\s+lastly\b|Lastly,|And\s+finally\b)", re.I)
DIGEST = re.compile(r"\b(?:weekly|daily|fortnightly|monthly)\s+(?:update|review|round-up|roundup|digest)\b", re.I)
COLUMN = re.compile(r"\b(?:corner|column|opinion|diary)\b|^view from\b", re.I)
SOURCE = re.compile(rf"^(?:\[\s*(?P<bracketed>Source\s*[–:-]{_LAZY})\s*\]|(?P<via>Via\s+[A-Z][^.]{{0,80}}))$")
BYLINE = re.compile(r"^(?:[Bb]y\s+[A-Z]|.{1,60}\bwrites:?$)")
FIELD = re.compile(
    r"^(?:Fees?|Cost|Price|Venue|Dates?|Time|Booking|Speakers?|Contact|E-?mail|Tel|Telephone|Phone|Where|When)\s*:",
    re.I,
)
LABEL = re.compile(r"^[A-Z][A-Z ]{1,40}:$")
SENTENCE_BREAK = re.compile(r"[.!?…]\s+[A-Z“‘\"]")
FEE = re.compile(r"^(?:Fees?|Cost|Price|Charge)s?\s*:\s*(?P<fee>\S.*)$", re.I)
BOOKING = re.compile(r"\b(?:booking form|to book|book (?:a|your) place|booking:|bookings?\s+(?:is|are|via|at))", re.I)
SIGN_OFF = re.compile(r"^P\.?\s?S\.?\s", re.I)
VENUE_SEPARATOR = re.compile(r"^\s*(?:,|–|—|-|at\b)\s*(?P<venue>\S.*)$", re.I)
FIRST_SENTENCE = re.compile(r"^(.{1,120}?[.!?])(?:\s|$)")
OPENING = "‘“\"'"


@dataclass
class Unit:
    """A paragraph (one line of text) or a list (its items as (level, marker, text))."""

    text: str = ""
    items: list = field(default_factory=list)
    single_line_block: bool = False

    @property
    def is_list(self):
        return bool(self.items)

    def markdown(self):
        if not self.is_list:
            return to_markdown(self.text)
        lines, links = [], []
        for level, marker, text in self.items:
            body, found = to_markdown(text)
            lines.append(f"{'    ' * level}{marker} {body}")
            links += found
        return "\n".join(lines), links


# Splitting text ---------------------------------------------------------------


def _list_item(line):
    for pattern, kind in ((BULLET, "bullet"), (NUMBERED, "number"), (LETTERED, "letter")):
        m = pattern.match(line)
        if m:
            return kind, len(m["indent"].expandtabs(4)), m
    return None


def _list_unit(lines):
    items, first_indent, after_number = [], None, False
    for kind, indent, m in lines:
        if first_indent is None:
            first_indent = indent
        level = 1 if indent > first_indent or (kind == "bullet" and after_number) else 0
        if kind == "number":
            marker, after_number = f"{int(m['number'])}.", True
            level = 0 if indent <= first_indent else level
        elif kind == "letter":
            marker = f"- {m['letter']})"
        else:
            marker = "-"
        items.append((level, marker, normalise_spaces(m["text"])))
    return Unit(items=items)


def split_units(lines, line_per_block=False):
    """Blocks at blank lines; inside a block, each line a paragraph, consecutive list lines one list."""
    blocks, current = [], []
    for line in lines:
        if LEFTOVER.match(line):
            continue
        if not normalise_spaces(line):
            if current:
                blocks.append(current)
                current = []
            continue
        current.append(line)
        if line_per_block:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)

    units = []
    for block in blocks:
        pending = []
        for line in block:
            item = _list_item(line)
            if item:
                pending.append(item)
                continue
            if pending:
                units.append(_list_unit(pending))
                pending = []
            units.append(Unit(text=normalise_spaces(line), single_line_block=len(block) == 1))
        if pending:
            units.append(_list_unit(pending))
    return units


# Recognising units --------------------------------------------------------------


def is_date_line(unit):
    return not unit.is_list and parse_date_line(unit.text) is not None


def heading_shaped(units, i):
    unit = units[i]
    if unit.is_list or not unit.single_line_block:
        return False
    text = unit.text
    if len(text) > 140 or len(text.split()) > 22:
        return False
    if not (text[0].isupper() or text[0].isdigit() or text[0] in OPENING):
        return False
    if text[-1] in ".,;:" or text.endswith("...") or ";" in text:
        return False
    if has_link(text) or parse_date_line(text) or BYLINE.match(text) or SOURCE.match(text) or FIELD.match(text):
        return False
    if SENTENCE_BREAK.search(text) and not CLOSING.match(text):
        return False
    return not (i > 0 and is_date_line(units[i - 1]))


def find_headings(units):
    shaped = [heading_shaped(units, i) for i in range(len(units))]
    headings = set()
    for i, is_shaped in enumerate(shaped):
        if not is_shaped or i + 1 >= len(units):
            continue
        # A heading-shaped line directly above another is a subtitle, except a digest above its first item.
        if not shaped[i + 1] or DIGEST.search(units[i].text):
            headings.add(i)
    return headings


# Sections -------------------------------------------------------------------------


@dataclass
class _Section:
    heading: str | None
    kind: str
    units: list = field(default_factory=list)
    source: str | None = None
    label: str | None = None
    children: list = field(default_factory=list)


def _source_text(text):
    m = SOURCE.match(text)
    return (m["bracketed"] or m["via"]).strip() if m else None


def group_sections(units):
    """Intro units and sections from a post's units."""
    headings = find_headings(units)
    intro, sections = [], []
    current = digest = None
    label = None
    closing = False
    for i, unit in enumerate(units):
        if closing:
            current.units.append(unit)
            continue
        if not unit.is_list and LABEL.match(unit.text) and i + 1 in headings:
            label = unit.text.rstrip(":")
            continue
        if i in headings:
            text = unit.text
            if CLOSING.match(text):
                current, closing, digest = _Section(text, "closing"), True, None
                sections.append(current)
            elif digest is not None and len(text.split()) <= 4:
                current = _Section(text, "digest_item")
                digest.children.append(current)
            else:
                kind = "digest" if DIGEST.search(text) else "column" if COLUMN.search(text) else "article"
                current = _Section(text, kind)
                digest = current if kind == "digest" else None
                sections.append(current)
            current.label, label = label, None
            continue
        if not unit.is_list and CLOSING.match(unit.text):
            current, closing, digest = _Section(None, "closing", [unit]), True, None
            sections.append(current)
            continue
        source = None if unit.is_list else _source_text(unit.text)
        if source and current is not None and current.source is None:
            current.source = source
            continue
        (current.units if current is not None else intro).append(unit)
    if not headings and intro:
        sections.insert(0, _Section(None, "article", intro))
        intro = []
    return intro, sections


def _markdown(units):
    parts, links = [], []
    for unit in units:
        text, found = unit.markdown()
        parts.append(text)
        links += found
    return "\n\n".join(parts), links


def _dedupe(links):
    seen, out = set(), []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out


def _event(section):
    """Event fields, when the section lists an event; removes the lines they came from."""
    body = section.units
    labelled = bool(section.label and "EVENT" in section.label.upper())
    date_index = next((i for i, u in enumerate(body[:2]) if is_date_line(u)), None)
    if date_index is None and not labelled:
        return None
    used, date, time, venue = set(), None, None, None
    if date_index is not None:
        line = parse_date_line(body[date_index].text)
        date, time = line.date.isoformat(), find_time(line.rest)
        m = VENUE_SEPARATOR.match(line.rest)
        if m:
            venue = m["venue"].strip()
        elif date_index + 1 < len(body):
            after = body[date_index + 1]
            if (
                not after.is_list
                and len(after.text) <= 80
                and not after.text.endswith(".")
                and not FIELD.match(after.text)
            ):
                venue = after.text
                used.add(date_index + 1)
        used.add(date_index)
    fee = booking = None
    for i, unit in enumerate(body):
        if unit.is_list or i in used:
            continue
        if fee is None and (m := FEE.match(unit.text)):
            fee = m["fee"].strip()
            used.add(i)
        elif booking is None and BOOKING.search(unit.text):
            booking = unit.markdown()[0]
            used.add(i)
    if fee is None and section.label and "FREE" in section.label.upper():
        fee = "Free"
    if not labelled and not (venue or fee or booking):
        return None
    section.units = [u for i, u in enumerate(body) if i not in used]
    return ParsedEvent(date=date, time=time, venue=venue, fee=fee, booking=booking)


def build_section(section):
    all_links = _markdown(section.units)[1]
    event = _event(section) if section.kind in ("article", "column") or section.label else None
    if event:
        section.kind = "event"
    body, _ = _markdown(section.units)
    return ParsedSection(
        heading=section.heading,
        kind=section.kind,
        body_markdown=body,
        source=section.source,
        event=event,
        links=[ParsedLink(link.url, link.title) for link in _dedupe(all_links)],
        sections=[build_section(child) for child in section.children],
    )


# Posts ------------------------------------------------------------------------------


@dataclass
class RawPost:
    lines: list
    raw: str
    title: str | None = None
    date: object = None
    precision: str | None = None
    category: str | None = None
    tags: list = field(default_factory=list)
    line_per_block: bool = False
    comment_lines: list = field(default_factory=list)


def _non_blank(lines):
    return [i for i, line in enumerate(lines) if normalise_spaces(line)]


def _titled_post(lines, raw, **extra):
    """A post whose first line is its title, perhaps repeated with the date written out."""
    idx = _non_blank(lines)
    if not idx:
        return None
    title = normalise_spaces(lines[idx[0]])
    rest = lines[idx[0] + 1 :]
    found = find_date(title)
    following = _non_blank(rest)
    if following:
        second = normalise_spaces(rest[following[0]])
        if strip_dates(second) == strip_dates(title):
            found = found or find_date(second)
            rest = rest[following[0] + 1 :]
    post = RawPost(lines=rest, raw=raw, title=title, **extra)
    if found and post.date is None:
        post.date, post.precision = found.date, found.precision
    return post


def split_blog_dump(lines):
    posts, start = [], 0
    for i, line in enumerate(lines):
        m = FOOTER.match(line)
        if not m:
            continue
        chunk = lines[start:i]
        tags = [normalise_spaces(t) for t in (m["tags"] or "").split(",")]
        post = _titled_post(chunk, "\n".join(lines[start : i + 1]), category=normalise_spaces(m["category"]))
        if post:
            post.tags = [t for t in tags if t]
            posts.append(post)
        start = i + 1
    tail = lines[start:]
    if _non_blank(tail):
        post = _titled_post(tail, "\n".join(tail))
        if post:
            posts.append(post)
    return posts


def split_tagged_blog(lines, tag):
    units_idx = _non_blank(lines)
    starts = []
    for a, b in itertools.pairwise(units_idx):
        line = parse_date_line(normalise_spaces(lines[b]))
        if line and not line.rest.strip() and not parse_date_line(normalise_spaces(lines[a])):
            starts.append((a, b))
    posts = []
    for n, (title_i, date_i) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        line = parse_date_line(normalise_spaces(lines[date_i]))
        posts.append(
            RawPost(
                lines=lines[date_i + 1 : end],
                raw="\n".join(lines[title_i:end]),
                title=normalise_spaces(lines[title_i]),
                date=line.date,
                precision="day",
                tags=[tag],
            )
        )
    return posts


def split_document(text):
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if any(FOOTER.match(line) for line in lines):
        return split_blog_dump(lines)
    idx = _non_blank(lines)
    if not idx:
        return []
    first = normalise_spaces(lines[idx[0]])
    m = POSTS_TAGGED.match(first)
    if m:
        posts = split_tagged_blog(lines[idx[0] + 1 :], m["tag"])
        if posts:
            return posts
    body = lines[idx[0] : idx[-1] + 1]
    if len(body) >= 3 and all(normalise_spaces(line) for line in body):
        article, comments = split_comments([normalise_spaces(line) for line in body])
        return [RawPost(lines=article, raw=text, line_per_block=True, comment_lines=comments)]
    found = find_date(first)
    if found and len(first.split()) <= 12 and not first.endswith("."):
        return [_titled_post(lines, text)]
    return [RawPost(lines=lines, raw=text)]


# Whole documents -------------------------------------------------------------------


def _first_sentence(text):
    m = FIRST_SENTENCE.match(text)
    return (m.group(1) if m else text[:120]).rstrip(".")


def parse_post(post, *, source, newsletter, fallback_title=None):
    units = split_units(post.lines, line_per_block=post.line_per_block)
    sign_off = None
    if units and not units[-1].is_list and SIGN_OFF.match(units[-1].text):
        sign_off = units.pop()
    intro_units, raw_sections = group_sections(units)
    sections = [build_section(s) for s in raw_sections]
    intro, intro_links = _markdown(intro_units)
    sign_off_md, sign_off_links = sign_off.markdown() if sign_off else ("", [])

    title = post.title or fallback_title
    if not title:
        headed = [s.heading for s in sections if s.heading]
        title = headed[0] if headed else _first_sentence(intro or (sections[0].body_markdown if sections else ""))

    def walk(items):
        for s in items:
            yield from s.links
            yield from walk(s.sections)

    every_link = _dedupe([FoundLink(u.url, u.title) for u in [*intro_links, *walk(sections), *sign_off_links]])
    comments = [
        ParsedComment(author=None, date=None, body_markdown=to_markdown(line)[0]) for line in post.comment_lines
    ]
    return ParsedIssue(
        source=source,
        newsletter=newsletter,
        title=title or "Untitled",
        date=post.date.isoformat() if post.date else None,
        date_precision=post.precision if post.date else None,
        category=post.category,
        tags=post.tags,
        intro=intro or None,
        sign_off=sign_off_md or None,
        sections=sections,
        links=[link.url for link in every_link],
        comments=comments,
        content_hash=hashlib.sha256(post.raw.encode("utf-8")).hexdigest(),
    )


def parse_document(text, *, source, newsletter, title=None):
    """Every issue in one document, in document order."""
    issues = []
    for post in split_document(text):
        issues.append(parse_post(post, source=source, newsletter=newsletter, fallback_title=title))
    return issues
