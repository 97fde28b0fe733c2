"""A Substack export's posts → ParsedIssue, one per published post. Pure Python: no Django, no database.

Substack's export (Settings → Exports) is a folder with `posts.csv`, one row per post:
post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,subtitle,podcast_url
(older exports lack some columns), and `posts/<post_id>.html`, the body of each. Published posts of type
newsletter or podcast are issues; drafts, pages and discussion threads are skipped and said so.
The title is the row's, the subtitle the intro, the date post_date's (else email_sent_at's) day, and the
sections come from the HTML (importer/html.py, sanitised). The content hash covers the row and the HTML,
so a post is `unchanged` on a second run and `changed` when either is edited.
"""

import csv
import datetime
import hashlib
import io
import re
from dataclasses import dataclass

from newsletter.importer.html import html_sections
from newsletter.importer.parsed import ParsedIssue

REQUIRED = ("post_id", "post_date", "is_published", "title")
ISSUE_TYPES = ("newsletter", "podcast")
POST_ID = re.compile(r"^[0-9]{1,20}(?:\.[A-Za-z0-9_-]{1,200})?$")
MAX_TITLE = 300


class SubstackError(ValueError):
    """posts.csv, or one post, cannot be read; the message names it and the problem."""


@dataclass(frozen=True)
class PostRow:
    post_id: str
    title: str
    subtitle: str
    date: str | None  # ISO day
    published: bool
    type: str
    raw: str  # the row as read, for the content hash

    @property
    def file_name(self):
        return f"{self.post_id}.html"


def _day(text):
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text[:40]).date().isoformat()
    except ValueError:
        return None


def read_posts_csv(text):
    """Every row of posts.csv as a PostRow, or SubstackError naming the problem (the header, a bad row)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = [h.strip() for h in reader.fieldnames or ()]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise SubstackError(f"posts.csv: not a Substack export (no column {', '.join(missing)})")
        reader.fieldnames = header
        rows = []
        for record in reader:
            post_id = (record.get("post_id") or "").strip()
            if not POST_ID.match(post_id):
                raise SubstackError(f"posts.csv line {reader.line_num}: “{post_id[:40]}” is not a Substack post id")
            date = _day(record.get("post_date")) or _day(record.get("email_sent_at"))
            raw = "\x1f".join(f"{k}={v}" for k, v in sorted((k, v) for k, v in record.items() if isinstance(v, str)))
            rows.append(
                PostRow(
                    post_id=post_id,
                    title=" ".join((record.get("title") or "").split())[:MAX_TITLE],
                    subtitle=" ".join((record.get("subtitle") or "").split()),
                    date=date,
                    published=(record.get("is_published") or "").strip().lower() == "true",
                    type=(record.get("type") or "newsletter").strip().lower(),
                    raw=raw,
                )
            )
    except csv.Error as exc:
        raise SubstackError(f"posts.csv line {reader.line_num}: not valid CSV ({exc})") from exc
    return rows


def skip_reason(row):
    """Why a row is not an issue (a draft, a page, a thread), or None."""
    if not row.published:
        return "a draft (not published)"
    if row.type not in ISSUE_TYPES:
        return f"a {row.type or 'post'} of type “{row.type[:20]}”, not a newsletter post"
    return None


def parse_post(row, html, *, newsletter):
    """One published post and its HTML body as a ParsedIssue."""
    try:
        sections = html_sections(html)
    except RecursionError:
        raise SubstackError(f"{row.file_name}: the HTML is nested too deeply to read") from None
    links = list(dict.fromkeys(link.url for section in sections for link in section.links))
    digest = hashlib.sha256(f"{row.raw}\x1e{html}".encode("utf-8", "surrogatepass")).hexdigest()
    return ParsedIssue(
        source=row.file_name,
        newsletter=newsletter,
        title=row.title or "Untitled",
        date=row.date,
        date_precision="day" if row.date else None,
        category=None,
        tags=[],
        intro=row.subtitle or None,
        sign_off=None,
        sections=sections,
        links=links,
        comments=[],
        content_hash=digest,
    )
