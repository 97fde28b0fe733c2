"""Plain-text past updates to issues. Pure Python: no Django, no database.

The rules are described, with examples, in docs/importer.md. In short: decide
the document's shape (blog dump, tagged blog, titled update, untitled
newsletter, news article with comments), cut it into posts, cut each post into
units (paragraphs and lists), then find headings and group units into sections.
"""

import hashlib

from newsletter.importer.inline import FoundLink, to_markdown
from newsletter.importer.parsed import ParsedComment, ParsedIssue
from newsletter.importer.patterns import FIRST_SENTENCE, SIGN_OFF
from newsletter.importer.posts import split_document
from newsletter.importer.sections import _dedupe, _markdown, build_section, group_sections
from newsletter.importer.units import split_units

# Whole documents -------------------------------------------------------------------


# A title made from the text is at most this long (docs/importer.md, "Document shapes").
TITLE_MAX_CHARS = 120


def _first_sentence(units):
    """The first sentence of the first paragraph, shortened at a word (with …) when it runs past TITLE_MAX_CHARS."""
    text = next((unit.text for unit in units if not unit.is_list), "")
    m = FIRST_SENTENCE.match(text)
    if m:
        return m.group(1).rstrip(".")
    if len(text) <= TITLE_MAX_CHARS:
        return text.rstrip(".")
    return text[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-") + "…"


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
        # An untitled newsletter is titled by its first heading; a news article (one paragraph per line) by
        # its first sentence, as its subheadings name parts of the story, not the story.
        headed = [] if post.line_per_block else [s.heading for s in sections if s.heading]
        title = headed[0] if headed else _first_sentence(units)

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
