"""The archive pages' big parts (an issue page's head and body, a newsletter's list, the home page's list)
rendered once and kept in this process, keyed by the row versions of everything they show (issue 17).

A page's one query loads its row with `versions`: an md5 over the PostgreSQL row version (xmin, cmin) of every
row the part shows (the issue, its newsletter, sections, links, images, comments, tags…). Any write to one of
those rows, through any door (the admin, a bulk action, QuerySet.update(), raw SQL, another process), gives it a
new xmin (or, inside one transaction, a new cmin; xids repeat only after some four billion transactions, far
beyond a part's life in a process), and an insert or delete changes the set, so the key changes
and the part renders afresh: nothing has to remember to forget it, and the page cache's version (which moves only
when ARCHIVE_CACHE_SECONDS > 0) plays no part. The key also holds the languages and SITE_URL the part depends on.

What differs between readers is not in the parts, or is in their key: a reader token's query stands as a slot
filled per request (fill_token), and a personal edition (?topics=) is kept per set of topics, with its sections'
topics among the versions. The shell around the parts (the language switch, the subscribe box, headers) renders
per request.

SQLite has no row versions: there `versions` is None and every part renders each time (development only).
Kept per process (a bounded LRU, no round trip): each gunicorn worker renders a part once per version.
"""

import secrets
import threading
from collections import OrderedDict

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Value
from django.db.models.expressions import RawSQL
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from newsletter import languages
from newsletter.models import Comment, Issue, Link, Newsletter, Section, SectionImage, Tag, Topic

MAX_PARTS = 256  # an issue page's parts are ~10-60 KB: at most about 15 MB per process


class _LRU:
    def __init__(self, size):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value):
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_parts = _LRU(MAX_PARTS)


def kept(kind, pk, versions, build, *extra):
    """build()'s result, from this process's store when `versions` (from the page's query) is unchanged."""
    if versions is None:
        return build()
    key = (kind, pk, versions, languages.current(), settings.SITE_URL, *extra)
    found = _parts.get(key)
    if found is None:
        found = build()
        _parts.put(key, found)
    return found


# Row versions ------------------------------------------------------------------------------------------


def _row(alias):
    """A row version: xmin is the transaction that wrote it, cmin the command within that transaction (two
    writes in one transaction share an xmin)."""
    return f"{alias}.xmin::text || '.' || {alias}.cmin::text"


def _rows(model, where, join=""):
    """Every matching row's id and version, in id order; '' for none."""
    return (
        f"coalesce((SELECT string_agg(t.id::text || ':' || {_row('t')}, ',' ORDER BY t.id) "
        f"FROM {_quoted(model)} t {join} WHERE {where}), '')"
    )


def _versions(*parts):
    """The md5 of the parts, as an annotation; NULL off PostgreSQL (no row versions)."""
    if connection.vendor != "postgresql":
        return Value(None, output_field=CharField())
    return RawSQL("md5(" + " || '|' || ".join(parts) + ")", [])


def _quoted(model):
    return connection.ops.quote_name(model._meta.db_table)


def issue_versions(edition=False):
    """For Issue.objects…select_related("newsletter"): the issue, its newsletter, and its sections, links, images,
    visible or hidden comments, tags (their names) and tag links; for a personal edition's page (`edition`), also
    its sections' topics (which sections it shows, and the topics' names)."""
    issue, newsletter = _quoted(Issue), _quoted(Newsletter)
    section, tags, topics = _quoted(Section), _quoted(Issue.tags.through), _quoted(Section.topics.through)
    of_issue = f"t.issue_id = {issue}.id"
    in_sections = f"JOIN {section} s ON s.id = t.section_id"
    parts = [
        _row(issue),
        _row(newsletter),
        _rows(Section, of_issue),
        _rows(Link, f"s.issue_id = {issue}.id", in_sections),
        _rows(SectionImage, f"s.issue_id = {issue}.id", in_sections),
        _rows(Comment, of_issue),
        _rows(Issue.tags.through, of_issue),
        _rows(Tag, f"t.id IN (SELECT tag_id FROM {tags} WHERE issue_id = {issue}.id)"),
    ]
    if edition:
        of_sections = f"SELECT id FROM {section} WHERE issue_id = {issue}.id"
        parts.append(_rows(Section.topics.through, f"s.issue_id = {issue}.id", in_sections))
        parts.append(_rows(Topic, f"t.id IN (SELECT topic_id FROM {topics} WHERE section_id IN ({of_sections}))"))
    return _versions(*parts)


def newsletter_versions():
    """For Newsletter.objects: the newsletter, every issue of it (a list shows the listed ones) and its topics."""
    newsletter = _quoted(Newsletter)
    of_newsletter = f"t.newsletter_id = {newsletter}.id"
    return _versions(_row(newsletter), _rows(Issue, of_newsletter), _rows(Topic, of_newsletter))


def archive_versions():
    """For the home page: every newsletter and issue (one query, no ORM); None off PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT md5({_rows(Newsletter, 'true')} || '|' || {_rows(Issue, 'true')})")
        return cursor.fetchone()[0]


# The issue page's parts ---------------------------------------------------------------------------------

# Stands for a reader's `token=…` in a kept part (a page opened by a reader token links to the issue's other pages
# with it); random, so no text an editor writes can contain it.
TOKEN_SLOT = f"reader-token-{secrets.token_hex(16)}"


def fill_token(html, token_query):
    """A kept part with this reader's token query where the slot is, escaped as the template would."""
    return mark_safe(html.replace(TOKEN_SLOT, escape(token_query)))


def issue_parts(context):
    """{"head", "content"}: the issue page's <head> tags and its article and comments (archive/issue.html)."""
    return {
        "head": render_to_string("archive/_issue_head.html", context),
        "content": render_to_string("archive/_issue_content.html", context),
    }
